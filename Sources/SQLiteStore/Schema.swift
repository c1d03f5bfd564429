import GRDB

/// Versioned migrations. A migration, once shipped, is never edited: add a new one.
enum Schema {
    static func migrator() -> DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-core") { db in
            try db.execute(sql: """
            CREATE TABLE deliveries (
                id INTEGER PRIMARY KEY,
                binding TEXT NOT NULL,
                delivery_id TEXT NOT NULL,
                event TEXT NOT NULL,
                verdict TEXT NOT NULL,
                reason TEXT NOT NULL,
                trigger_id INTEGER,
                received_at REAL NOT NULL,
                UNIQUE (binding, delivery_id)
            );
            CREATE TABLE triggers (
                id INTEGER PRIMARY KEY,
                repository TEXT NOT NULL,
                ref TEXT NOT NULL,
                commit_hash TEXT,
                kind TEXT NOT NULL,
                application TEXT,
                strategy TEXT NOT NULL,
                commit_message TEXT NOT NULL,
                author TEXT NOT NULL,
                created_at REAL NOT NULL,
                planned_at REAL,
                note TEXT
            );
            CREATE INDEX triggers_pending ON triggers (id) WHERE planned_at IS NULL;
            CREATE TABLE applications (
                name TEXT PRIMARY KEY,
                repository TEXT NOT NULL,
                path TEXT NOT NULL,
                config_file TEXT NOT NULL,
                kind TEXT NOT NULL,
                platform TEXT,
                last_triggered_commit TEXT,
                running_commit TEXT,
                config_error TEXT,
                updated_at REAL NOT NULL
            );
            CREATE TABLE deployments (
                id TEXT PRIMARY KEY,
                seq INTEGER NOT NULL UNIQUE,
                application TEXT NOT NULL,
                repository TEXT NOT NULL,
                app_path TEXT NOT NULL,
                platform TEXT,
                commit_hash TEXT NOT NULL,
                running_commit TEXT,
                trigger_kind TEXT NOT NULL,
                commit_message TEXT NOT NULL,
                author TEXT NOT NULL,
                strategy TEXT NOT NULL,
                summary TEXT NOT NULL,
                status TEXT NOT NULL,
                status_reason TEXT NOT NULL,
                auto_rollback INTEGER NOT NULL,
                created_at REAL NOT NULL,
                started_at REAL,
                completed_at REAL,
                deadline REAL,
                timeout_seconds REAL NOT NULL,
                cancel_requested INTEGER NOT NULL DEFAULT 0,
                cancel_rollback INTEGER NOT NULL DEFAULT 1
            );
            CREATE INDEX deployments_app ON deployments (application, seq);
            CREATE INDEX deployments_open ON deployments (status) WHERE status IN ('PLANNED', 'PENDING', 'RUNNING', 'ROLLING_BACK');
            CREATE TABLE stages (
                deployment_id TEXT NOT NULL REFERENCES deployments(id),
                idx INTEGER NOT NULL,
                name TEXT NOT NULL,
                with_json TEXT NOT NULL,
                rollback INTEGER NOT NULL,
                rollback_of INTEGER,
                status TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                lease_owner TEXT,
                lease_expiry REAL,
                resume_at REAL,
                waiting_for TEXT,
                timeout_seconds REAL,
                retry_json TEXT,
                deadline REAL,
                started_at REAL,
                completed_at REAL,
                checkpoint TEXT,
                outputs TEXT NOT NULL,
                message TEXT NOT NULL,
                process_group INTEGER,
                process_start INTEGER,
                PRIMARY KEY (deployment_id, idx)
            );
            CREATE INDEX stages_running ON stages (status) WHERE status = 'RUNNING';
            CREATE TABLE stage_logs (
                id INTEGER PRIMARY KEY,
                deployment_id TEXT NOT NULL,
                stage_idx INTEGER NOT NULL,
                attempt INTEGER NOT NULL,
                at REAL NOT NULL,
                line TEXT NOT NULL
            );
            CREATE INDEX stage_logs_deployment ON stage_logs (deployment_id, id);
            CREATE TABLE approvals (
                deployment_id TEXT NOT NULL,
                stage_idx INTEGER NOT NULL,
                approver TEXT NOT NULL,
                at REAL NOT NULL,
                PRIMARY KEY (deployment_id, stage_idx, approver)
            );
            """)
        }
        m.registerMigration("v2-function-protocol-part-2") { db in
            try db.execute(sql: """
            ALTER TABLE stages ADD COLUMN recoveries INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE stages ADD COLUMN error_type TEXT;
            ALTER TABLE stages ADD COLUMN checkpoint_schema INTEGER;
            ALTER TABLE stages ADD COLUMN callback_hash TEXT;
            ALTER TABLE stages ADD COLUMN resume_json TEXT;
            ALTER TABLE stages ADD COLUMN stop_reason TEXT;
            ALTER TABLE stages ADD COLUMN function_name TEXT;
            ALTER TABLE stages ADD COLUMN function_version TEXT;
            CREATE UNIQUE INDEX stages_callback ON stages (callback_hash) WHERE callback_hash IS NOT NULL;
            CREATE TABLE invocations (
                id INTEGER PRIMARY KEY,
                deployment_id TEXT NOT NULL,
                stage_idx INTEGER NOT NULL,
                attempt INTEGER NOT NULL,
                recovery INTEGER NOT NULL,
                function_name TEXT NOT NULL,
                function_version TEXT NOT NULL,
                started_at REAL NOT NULL,
                ended_at REAL,
                status TEXT,
                error_type TEXT,
                message TEXT,
                report_json TEXT
            );
            CREATE INDEX invocations_stage ON invocations (deployment_id, stage_idx, id);
            """)
        }
        // Recent deliveries per binding (newest first) and the reconcile's "last triggered commit" lookup.
        m.registerMigration("v3-ingress-lookups") { db in
            try db.execute(sql: """
            CREATE INDEX deliveries_by_binding ON deliveries (binding, id);
            CREATE INDEX triggers_by_ref ON triggers (repository, ref, id) WHERE commit_hash IS NOT NULL;
            """)
        }
        AccountSchema.register(in: &m)
        // Replicas sharing the store name themselves and beat (one row with SQLite: the one process).
        m.registerMigration("v5-replicas") { db in
            try db.execute(sql: """
            CREATE TABLE replicas (
                id TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                started_at REAL NOT NULL,
                last_heartbeat REAL NOT NULL
            );
            """)
        }
        // The rollback's own deadline (spec.rollbackTimeout); deployments stored before it get the default.
        m.registerMigration("v6-rollback-timeout") { db in
            try db.execute(sql: """
            ALTER TABLE deployments ADD COLUMN rollback_timeout_seconds REAL NOT NULL DEFAULT 21600;
            ALTER TABLE deployments ADD COLUMN rollback_deadline REAL;
            """)
        }
        return m
    }
}
