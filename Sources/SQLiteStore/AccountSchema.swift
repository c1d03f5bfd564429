import GRDB

/// Accounts and insights columns. Portable SQL only: a PostgreSQL store creates the same tables.
enum AccountSchema {
    static func register(in m: inout DatabaseMigrator) {
        m.registerMigration("v4-accounts-insights") { db in
            try db.execute(sql: """
            CREATE TABLE users (
                name TEXT PRIMARY KEY,
                password_hash TEXT NOT NULL,
                role TEXT NOT NULL,
                created_at REAL NOT NULL
            );
            CREATE TABLE sessions (
                token_hash TEXT PRIMARY KEY,
                user_name TEXT NOT NULL,
                role TEXT NOT NULL,
                created_at REAL NOT NULL,
                expires_at REAL NOT NULL
            );
            CREATE INDEX sessions_user ON sessions (user_name);
            CREATE TABLE api_tokens (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                owner TEXT NOT NULL,
                role TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                created_at REAL NOT NULL,
                revoked_at REAL
            );
            CREATE INDEX api_tokens_owner ON api_tokens (owner, id);
            ALTER TABLE deployments ADD COLUMN commit_time REAL;
            ALTER TABLE applications ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
            CREATE INDEX deployments_completed ON deployments (completed_at) WHERE status IN ('SUCCESS', 'FAILURE');
            """)
        }
    }
}
