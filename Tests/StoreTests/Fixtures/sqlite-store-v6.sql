PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
INSERT INTO grdb_migrations VALUES('v1-core');
INSERT INTO grdb_migrations VALUES('v2-function-protocol-part-2');
INSERT INTO grdb_migrations VALUES('v3-ingress-lookups');
INSERT INTO grdb_migrations VALUES('v4-accounts-insights');
INSERT INTO grdb_migrations VALUES('v5-replicas');
INSERT INTO grdb_migrations VALUES('v6-rollback-timeout');
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
INSERT INTO deliveries VALUES(1,'demo','d5e14b05-dfab-4ff4-a7ec-4616c9ad752e','push','accepted','push to refs/heads/main at 419662aee145',1,1796213286.5475063324);
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
INSERT INTO triggers VALUES(1,'demo','refs/heads/main','419662aee1458389fb671a2fe14b46a7f232d7b5','webhook',NULL,'auto','legacy change','a',1796213286.5475063324,1796213286.6049163341,'');
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
, labels TEXT NOT NULL DEFAULT '{}');
INSERT INTO applications VALUES('hello','demo','apps/hello','apps/hello/app.gantry.yaml','App',NULL,'419662aee1458389fb671a2fe14b46a7f232d7b5',NULL,NULL,1796213286.6046743392,'{}');
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
, commit_time REAL, rollback_timeout_seconds REAL NOT NULL DEFAULT 21600, rollback_deadline REAL);
INSERT INTO deployments VALUES('458db5bc-39dd-4475-a467-df313d388e65',1,'hello','demo','apps/hello',NULL,'419662aee1458389fb671a2fe14b46a7f232d7b5',NULL,'webhook','legacy change','a','pipeline','Run the specified pipeline: the application has no platform, so there is no quick sync stage','RUNNING','',1,1796213286.6046631335,1796213286.606210947,NULL,1796234886.606210947,21600.0,0,1,1796213286.0,21600.0,NULL);
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
    process_start INTEGER, recoveries INTEGER NOT NULL DEFAULT 0, error_type TEXT, checkpoint_schema INTEGER, callback_hash TEXT, resume_json TEXT, stop_reason TEXT, function_name TEXT, function_version TEXT,
    PRIMARY KEY (deployment_id, idx)
);
INSERT INTO stages VALUES('458db5bc-39dd-4475-a467-df313d388e65',0,'SCRIPT_RUN','{"onRollback":"echo \"rolling back $SR_APPLICATION_NAME\"","run":"echo \"building $SR_APPLICATION_NAME at $SR_TRIGGERED_COMMIT_HASH\"\ncat index.txt\n"}',0,NULL,'SUCCESS',1,NULL,NULL,NULL,NULL,NULL,NULL,1796234886.606210947,1796213286.606210947,1796213286.6509978771,NULL,'{}','script succeeded',NULL,NULL,0,NULL,NULL,NULL,NULL,NULL,'script-run','29572975161a8bed6d66a060fecb06df05fea6562278ccfe43e8b3fbcb7d066f');
INSERT INTO stages VALUES('458db5bc-39dd-4475-a467-df313d388e65',1,'WAIT','{"duration":"20s"}',0,NULL,'SUSPENDED',1,NULL,NULL,1796213306.6820001602,NULL,NULL,NULL,1796234886.6518952845,1796213286.6518952846,NULL,'{"startedAt":"2026-12-02T12:08:06.682Z"}','{}','waiting until 2026-12-02T12:08:26.682Z',NULL,NULL,0,NULL,NULL,NULL,NULL,NULL,'wait','423389f66684436a9029cc86372dd37d38451eee8689cfe6febf831ccacc6661');
INSERT INTO stages VALUES('458db5bc-39dd-4475-a467-df313d388e65',2,'WAIT_APPROVAL','{"minApproverNum":1}',0,NULL,'NOT_STARTED',0,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'{}','',NULL,NULL,0,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO stages VALUES('458db5bc-39dd-4475-a467-df313d388e65',3,'SCRIPT_RUN','{"run":"echo \"promoted $SR_TRIGGERED_COMMIT_HASH\""}',0,NULL,'NOT_STARTED',0,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'{}','',NULL,NULL,0,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO stages VALUES('458db5bc-39dd-4475-a467-df313d388e65',4,'SCRIPT_RUN_ROLLBACK','{"onRollback":"echo \"rolling back $SR_APPLICATION_NAME\"","run":"echo \"building $SR_APPLICATION_NAME at $SR_TRIGGERED_COMMIT_HASH\"\ncat index.txt\n"}',1,0,'NOT_STARTED',0,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'{}','',NULL,NULL,0,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE stage_logs (
    id INTEGER PRIMARY KEY,
    deployment_id TEXT NOT NULL,
    stage_idx INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    at REAL NOT NULL,
    line TEXT NOT NULL
);
INSERT INTO stage_logs VALUES(1,'458db5bc-39dd-4475-a467-df313d388e65',0,1,1796213286.6454052924,'running script in /tmp/legacy/d/data/deployments/458db5bc-39dd-4475-a467-df313d388e65/target (attempt 1, timeout 6h)');
INSERT INTO stage_logs VALUES(2,'458db5bc-39dd-4475-a467-df313d388e65',0,1,1796213286.6469538211,'building hello at 419662aee1458389fb671a2fe14b46a7f232d7b5');
INSERT INTO stage_logs VALUES(3,'458db5bc-39dd-4475-a467-df313d388e65',0,1,1796213286.6479353904,'hello from the Gantry demo');
INSERT INTO stage_logs VALUES(4,'458db5bc-39dd-4475-a467-df313d388e65',0,1,1796213286.6479353904,'change');
INSERT INTO stage_logs VALUES(5,'458db5bc-39dd-4475-a467-df313d388e65',0,1,1796213286.6487970352,'script succeeded');
INSERT INTO stage_logs VALUES(6,'458db5bc-39dd-4475-a467-df313d388e65',0,1,1796213286.6509978771,'gantry: attempt 1 SUCCESS: script succeeded (wall 34 ms, cpu 13 ms, max rss 9448 KiB)');
INSERT INTO stage_logs VALUES(7,'458db5bc-39dd-4475-a467-df313d388e65',1,1,1796213286.683420658,'waiting 20s (until 2026-12-02T12:08:26.682Z, 20s left)');
INSERT INTO stage_logs VALUES(8,'458db5bc-39dd-4475-a467-df313d388e65',1,1,1796213286.684592247,'gantry: attempt 1 SUSPENDED: waiting until 2026-12-02T12:08:26.682Z (wall 25 ms, cpu 10 ms, max rss 10520 KiB)');
CREATE TABLE approvals (
    deployment_id TEXT NOT NULL,
    stage_idx INTEGER NOT NULL,
    approver TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (deployment_id, stage_idx, approver)
);
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
INSERT INTO invocations VALUES(1,'458db5bc-39dd-4475-a467-df313d388e65',0,1,0,'script-run','29572975161a8bed6d66a060fecb06df05fea6562278ccfe43e8b3fbcb7d066f',1796213286.606210947,1796213286.6509978771,'SUCCESS',NULL,'script succeeded','{"cpuMs":13,"exitCode":0,"maxRssKiB":9448,"wallMs":34}');
INSERT INTO invocations VALUES(2,'458db5bc-39dd-4475-a467-df313d388e65',1,1,0,'wait','423389f66684436a9029cc86372dd37d38451eee8689cfe6febf831ccacc6661',1796213286.6518952846,1796213286.684592247,'SUSPENDED',NULL,'waiting until 2026-12-02T12:08:26.682Z','{"cpuMs":10,"exitCode":0,"maxRssKiB":10520,"wallMs":25}');
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
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    owner TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    revoked_at REAL
);
CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    started_at REAL NOT NULL,
    last_heartbeat REAL NOT NULL
);
INSERT INTO replicas VALUES('vm-a888678b','vm-a888678b/a07d49ad-9fe8-434e-8f4c-2c4f83ef7424',1796213282.5375323295,1796213295.8884398937);
CREATE INDEX triggers_pending ON triggers (id) WHERE planned_at IS NULL;
CREATE INDEX deployments_app ON deployments (application, seq);
CREATE INDEX deployments_open ON deployments (status) WHERE status IN ('PLANNED', 'PENDING', 'RUNNING', 'ROLLING_BACK');
CREATE INDEX stages_running ON stages (status) WHERE status = 'RUNNING';
CREATE INDEX stage_logs_deployment ON stage_logs (deployment_id, id);
CREATE UNIQUE INDEX stages_callback ON stages (callback_hash) WHERE callback_hash IS NOT NULL;
CREATE INDEX invocations_stage ON invocations (deployment_id, stage_idx, id);
CREATE INDEX deliveries_by_binding ON deliveries (binding, id);
CREATE INDEX triggers_by_ref ON triggers (repository, ref, id) WHERE commit_hash IS NOT NULL;
CREATE INDEX sessions_user ON sessions (user_name);
CREATE INDEX api_tokens_owner ON api_tokens (owner, id);
CREATE INDEX deployments_completed ON deployments (completed_at) WHERE status IN ('SUCCESS', 'FAILURE');
COMMIT;
