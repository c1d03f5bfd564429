import Foundation

/// The one schema of both back ends: versioned migrations, recorded in `schema_migrations`. A shipped migration is
/// never edited: add a new one. Written in PostgreSQL's words; `SQLFlavor.schema` renders them for SQLite.
public enum StoreSchema {
    public static let migrations: [(version: String, sql: [String])] = [
        ("v1-core", [
            """
            CREATE TABLE deliveries (
                id BIGSERIAL PRIMARY KEY, binding TEXT NOT NULL, delivery_id TEXT NOT NULL, event TEXT NOT NULL,
                verdict TEXT NOT NULL, reason TEXT NOT NULL, trigger_id BIGINT, received_at DOUBLE PRECISION NOT NULL,
                UNIQUE (binding, delivery_id))
            """,
            "CREATE INDEX deliveries_by_binding ON deliveries (binding, id)",
            """
            CREATE TABLE triggers (
                id BIGSERIAL PRIMARY KEY, repository TEXT NOT NULL, ref TEXT NOT NULL, commit_hash TEXT, kind TEXT NOT NULL,
                application TEXT, strategy TEXT NOT NULL, commit_message TEXT NOT NULL, author TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL, planned_at DOUBLE PRECISION, note TEXT)
            """,
            "CREATE INDEX triggers_pending ON triggers (id) WHERE planned_at IS NULL",
            "CREATE INDEX triggers_by_ref ON triggers (repository, ref, id) WHERE commit_hash IS NOT NULL",
            """
            CREATE TABLE applications (
                name TEXT PRIMARY KEY, repository TEXT NOT NULL, path TEXT NOT NULL, config_file TEXT NOT NULL,
                kind TEXT NOT NULL, platform TEXT, last_triggered_commit TEXT, running_commit TEXT, config_error TEXT,
                updated_at DOUBLE PRECISION NOT NULL)
            """,
            """
            CREATE TABLE deployments (
                id TEXT PRIMARY KEY, seq BIGSERIAL NOT NULL UNIQUE, application TEXT NOT NULL, repository TEXT NOT NULL,
                app_path TEXT NOT NULL, platform TEXT, commit_hash TEXT NOT NULL, running_commit TEXT,
                trigger_kind TEXT NOT NULL, commit_message TEXT NOT NULL, author TEXT NOT NULL, strategy TEXT NOT NULL,
                summary TEXT NOT NULL, status TEXT NOT NULL, status_reason TEXT NOT NULL, auto_rollback BIGINT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL, started_at DOUBLE PRECISION, completed_at DOUBLE PRECISION,
                deadline DOUBLE PRECISION, timeout_seconds DOUBLE PRECISION NOT NULL,
                cancel_requested BIGINT NOT NULL DEFAULT 0, cancel_rollback BIGINT NOT NULL DEFAULT 1)
            """,
            "CREATE INDEX deployments_app ON deployments (application, seq)",
            "CREATE INDEX deployments_open ON deployments (status) WHERE status IN ('PLANNED', 'PENDING', 'RUNNING', 'ROLLING_BACK')",
            """
            CREATE TABLE stages (
                deployment_id TEXT NOT NULL REFERENCES deployments(id), idx BIGINT NOT NULL, name TEXT NOT NULL,
                with_json TEXT NOT NULL, rollback BIGINT NOT NULL, rollback_of BIGINT, status TEXT NOT NULL,
                attempt BIGINT NOT NULL, lease_owner TEXT, lease_expiry DOUBLE PRECISION, resume_at DOUBLE PRECISION,
                waiting_for TEXT, timeout_seconds DOUBLE PRECISION, retry_json TEXT, deadline DOUBLE PRECISION,
                started_at DOUBLE PRECISION, completed_at DOUBLE PRECISION, checkpoint TEXT, outputs TEXT NOT NULL,
                message TEXT NOT NULL, process_group BIGINT, process_start BIGINT,
                recoveries BIGINT NOT NULL DEFAULT 0, error_type TEXT, checkpoint_schema BIGINT, callback_hash TEXT,
                resume_json TEXT, stop_reason TEXT, function_name TEXT, function_version TEXT,
                PRIMARY KEY (deployment_id, idx))
            """,
            "CREATE INDEX stages_running ON stages (lease_owner) WHERE status = 'RUNNING'",
            "CREATE UNIQUE INDEX stages_callback ON stages (callback_hash) WHERE callback_hash IS NOT NULL",
            """
            CREATE TABLE stage_logs (
                id BIGSERIAL PRIMARY KEY, deployment_id TEXT NOT NULL, stage_idx BIGINT NOT NULL, attempt BIGINT NOT NULL,
                at DOUBLE PRECISION NOT NULL, line TEXT NOT NULL)
            """,
            "CREATE INDEX stage_logs_deployment ON stage_logs (deployment_id, id)",
            """
            CREATE TABLE approvals (
                deployment_id TEXT NOT NULL, stage_idx BIGINT NOT NULL, approver TEXT NOT NULL,
                at DOUBLE PRECISION NOT NULL, PRIMARY KEY (deployment_id, stage_idx, approver))
            """,
            """
            CREATE TABLE invocations (
                id BIGSERIAL PRIMARY KEY, deployment_id TEXT NOT NULL, stage_idx BIGINT NOT NULL, attempt BIGINT NOT NULL,
                recovery BIGINT NOT NULL, function_name TEXT NOT NULL, function_version TEXT NOT NULL,
                started_at DOUBLE PRECISION NOT NULL, ended_at DOUBLE PRECISION, status TEXT, error_type TEXT,
                message TEXT, report_json TEXT)
            """,
            "CREATE INDEX invocations_stage ON invocations (deployment_id, stage_idx, id)",
            """
            CREATE TABLE replicas (
                id TEXT PRIMARY KEY, owner TEXT NOT NULL, started_at DOUBLE PRECISION NOT NULL,
                last_heartbeat DOUBLE PRECISION NOT NULL)
            """,
        ]),
        // Shared work: one active deployment per application held by the database itself, and planning claims so
        // two replicas never plan the same repository at once (a replayed push must not overtake a newer one).
        ("v2-shared-work", [
            "CREATE UNIQUE INDEX deployments_one_active ON deployments (application) WHERE status IN ('RUNNING', 'ROLLING_BACK')",
            "ALTER TABLE triggers ADD COLUMN claimed_by TEXT",
            "ALTER TABLE triggers ADD COLUMN claimed_until DOUBLE PRECISION",
        ]),
        // Accounts and insights.
        ("v3-accounts-insights", [
            "CREATE TABLE users (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL)",
            """
            CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL, role TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL)
            """,
            "CREATE INDEX sessions_user ON sessions (user_name)",
            """
            CREATE TABLE api_tokens (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, owner TEXT NOT NULL, role TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE, created_at DOUBLE PRECISION NOT NULL, revoked_at DOUBLE PRECISION)
            """,
            "CREATE INDEX api_tokens_owner ON api_tokens (owner, id)",
            "ALTER TABLE deployments ADD COLUMN commit_time DOUBLE PRECISION",
            "ALTER TABLE applications ADD COLUMN labels TEXT NOT NULL DEFAULT '{}'",
            "CREATE INDEX deployments_completed ON deployments (completed_at) WHERE status IN ('SUCCESS', 'FAILURE')",
        ]),
        // The rollback's own deadline (spec.rollbackTimeout); deployments stored before it get the default.
        ("v4-rollback-timeout", [
            "ALTER TABLE deployments ADD COLUMN rollback_timeout_seconds DOUBLE PRECISION NOT NULL DEFAULT 21600",
            "ALTER TABLE deployments ADD COLUMN rollback_deadline DOUBLE PRECISION",
        ]),
        // Concurrency limits counted in the store, so they hold across replicas: the slot a RUNNING stage holds.
        ("v5-concurrency-slots", [
            "ALTER TABLE stages ADD COLUMN concurrency_slot TEXT",
            "CREATE INDEX stages_slot ON stages (concurrency_slot) WHERE status = 'RUNNING'",
        ]),
        // What an app's config says that nothing reads, shown on the application.
        ("v6-config-warnings", [
            "ALTER TABLE applications ADD COLUMN config_warnings TEXT NOT NULL DEFAULT '[]'",
        ]),
        // Outgoing calls (notifications, commit statuses), written in the transaction of the change that causes
        // them and sent afterwards by the outbox sender.
        ("v7-outbox", [
            """
            CREATE TABLE outbox (
                id BIGSERIAL PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, target TEXT NOT NULL,
                deployment_id TEXT NOT NULL, seq BIGINT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0, next_attempt_at DOUBLE PRECISION NOT NULL, last_error TEXT,
                created_at DOUBLE PRECISION NOT NULL, sent_at DOUBLE PRECISION)
            """,
            "CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending'",
            "CREATE INDEX outbox_pair ON outbox (target, deployment_id, seq)",
            "CREATE INDEX outbox_by_status ON outbox (status, id)",
        ]),
        // What a receiver must remember between rows: the comment or GitHub deployment a later row edits.
        ("v8-outbox-memos", [
            """
            CREATE TABLE outbox_memos (
                target TEXT NOT NULL, memo_key TEXT NOT NULL, value TEXT NOT NULL, updated_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (target, memo_key))
            """,
        ]),
        // The pull request a preview trigger plans (JSON), so its comment finds the PR after a restart.
        ("v9-pull-request-triggers", [
            "ALTER TABLE triggers ADD COLUMN pull_request TEXT",
        ]),
    ]

    /// The migrations not in `applied`, in order, rendered for `flavor`.
    public static func missing(applied: Set<String>, flavor: SQLFlavor) -> [(version: String, statements: [String])] {
        migrations.filter { !applied.contains($0.version) }.map { ($0.version, $0.sql.map(flavor.schema)) }
    }

    public static let table = "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"

    /// SQLite stores made before the schema was shared recorded GRDB's migrations: at the last of them
    /// (`v6-rollback-timeout`) they hold exactly these shared migrations, and take the others (shared work) on open.
    public static let sqliteLegacyLast = "v6-rollback-timeout"
    public static let sqliteLegacyEquivalent = ["v1-core", "v3-accounts-insights", "v4-rollback-timeout"]
}
