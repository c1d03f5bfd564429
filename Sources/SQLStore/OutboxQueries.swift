import Foundation
import SQLKit
import Store

/// The outbox: rows enqueued inside the transactions that change a deployment, and the sender's calls.
extension SQLBackedStore {
    /// Inside a write transaction: one row per target the router names for this event, the deployment as this
    /// transaction left it.
    func enqueueOutbox(_ db: any SQLDatabase, _ type: DeploymentEventType, deploymentID: String, now: Date) async throws {
        guard outbox.router != nil else { return }
        guard let row = try await db.one("""
            SELECT d.id, d.application, d.repository, d.commit_hash, d.commit_message, d.author, d.status,
                d.status_reason, a.labels FROM deployments AS d LEFT JOIN applications AS a ON a.name = d.application
            WHERE d.id = \(bind: deploymentID)
            """, table: "deployments") else { return }
        let labels = try row.optStr("labels").flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
        try await enqueueOutbox(db, DeploymentEvent(type: type, at: now, deployment: .init(
            id: deploymentID, application: try row.str("application"), repository: try row.str("repository"),
            commit: try row.str("commit_hash"), commitMessage: try row.str("commit_message"), author: try row.str("author"),
            status: try row.value("status", as: DeploymentStatus.self), statusReason: try row.str("status_reason"),
            labels: labels ?? [:])), pair: deploymentID)
    }

    /// Inside a plan's transaction: the apps the trigger touched and could not plan. With no deployment, their
    /// rows pair by app, so one app's failures keep their order.
    func enqueueTriggerFailures(_ db: any SQLDatabase, _ failures: [TriggerFailure], now: Date) async throws {
        for f in failures {
            try await enqueueOutbox(db, DeploymentEvent(type: .triggerFailed, at: now, deployment: .init(
                id: "", application: f.application, repository: f.repository, commit: f.commit,
                commitMessage: f.commitMessage, author: f.author, status: .failure, statusReason: f.reason,
                labels: f.labels)), pair: "app:" + f.application)
        }
    }

    private func enqueueOutbox(_ db: any SQLDatabase, _ event: DeploymentEvent, pair: String) async throws {
        guard let router = outbox.router else { return }
        let targets = router.targets(for: event)
        guard !targets.isEmpty else { return }
        let payload = String(decoding: try OutboxPayload.encoder.encode(event), as: UTF8.self)
        for target in targets {
            try await insertOutboxRow(db, target: target, pair: pair, kind: event.type.rawValue, payload: payload, now: event.at)
        }
        outbox.enqueued()
    }

    /// Inside a plan's transaction: the pull request's preview comment, when its repository has a Git host API.
    func enqueuePreviewComment(_ db: any SQLDatabase, _ comment: PreviewComment) async throws {
        guard let target = outbox.router?.commentTarget(repository: comment.repository) else { return }
        let payload = String(decoding: try OutboxPayload.encoder.encode(comment), as: UTF8.self)
        try await insertOutboxRow(db, target: target, pair: comment.pairKey, kind: comment.type, payload: payload, now: comment.at)
        outbox.enqueued()
    }

    /// The row's sequence follows the last of its (target, pair) pair; two transactions racing on one pair
    /// (PostgreSQL) may share a number, and then the id breaks the tie.
    private func insertOutboxRow(_ db: any SQLDatabase, target: String, pair: String, kind: String, payload: String,
                                 now: Date) async throws {
        let seq = try await db.one("""
            SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM outbox WHERE target = \(bind: target) AND deployment_id = \(bind: pair)
            """)?.int("n") ?? 1
        try await db.exec("""
            INSERT INTO outbox (idempotency_key, target, deployment_id, seq, payload, status, attempts, next_attempt_at, created_at)
            VALUES (\(bind: OutboxPayload.key(target: target, pair: pair, seq: seq, kind: kind)), \(bind: target),
                    \(bind: pair), \(bind: seq), \(bind: payload), 'pending', 0, \(bind: now.epoch), \(bind: now.epoch))
            ON CONFLICT (idempotency_key) DO NOTHING
            """)
    }

    public func outboxMemo(target: String, key: String) async throws -> String? {
        try await read { db in
            try await db.one("""
                SELECT value FROM outbox_memos WHERE target = \(bind: target) AND memo_key = \(bind: key)
                """)?.str("value")
        }
    }

    public func setOutboxMemo(target: String, key: String, value: String, now: Date) async throws {
        try await write { db in
            try await db.exec("""
                INSERT INTO outbox_memos (target, memo_key, value, updated_at)
                VALUES (\(bind: target), \(bind: key), \(bind: value), \(bind: now.epoch))
                ON CONFLICT (target, memo_key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """)
        }
    }

    public func claimOutbox(now: Date, limit: Int, lease: Double) async throws -> [OutboxMessage] {
        try await write { db in
            let due = try await db.rows("""
                SELECT \(unsafeRaw: OutboxPayload.columns) FROM outbox AS o
                WHERE \(unsafeRaw: OutboxPayload.headOfPair) AND o.next_attempt_at <= \(bind: now.epoch)
                ORDER BY o.id LIMIT \(bind: limit) \(self.flavor.lock(skipLocked: true))
                """, table: "outbox").map(OutboxMessage.init)
            guard !due.isEmpty else { return [] }
            try await db.exec("""
                UPDATE outbox SET next_attempt_at = \(bind: now.epoch + lease) WHERE id IN (\(binds: due.map { Int($0.id) }))
                """)
            return due
        }
    }

    public func recordOutboxAttempts(_ outcomes: [(id: Int64, outcome: OutboxAttempt)], now: Date) async throws {
        guard !outcomes.isEmpty else { return }
        try await write { db in
            for (id, outcome) in outcomes { switch outcome {
            case .sent:
                try await db.exec("""
                    UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = \(bind: now.epoch), last_error = NULL
                    WHERE id = \(bind: Int(id)) AND status = 'pending'
                    """)
            case .failed(let error, let retryAt, let deadLetter):
                try await db.exec("""
                    UPDATE outbox SET status = \(bind: deadLetter ? OutboxStatus.failed.rawValue : OutboxStatus.pending.rawValue),
                        attempts = attempts + 1, next_attempt_at = \(bind: retryAt.epoch), last_error = \(bind: error)
                    WHERE id = \(bind: Int(id)) AND status = 'pending'
                    """)
            } }
        }
    }

    public func nextOutboxAttempt() async throws -> Date? {
        try await read { db in
            try await db.one("""
                SELECT MIN(o.next_attempt_at) AS t FROM outbox AS o WHERE \(unsafeRaw: OutboxPayload.headOfPair)
                """)?.optDate("t")
        }
    }

    public func outboxMessages(status: OutboxStatus?, limit: Int) async throws -> [OutboxMessage] {
        try await read { db in
            var filter: SQLQueryString = ""
            if let status { filter = "WHERE status = \(bind: status.rawValue)" }
            return try await db.rows("""
                SELECT \(unsafeRaw: OutboxPayload.columns) FROM outbox \(filter) ORDER BY id DESC LIMIT \(bind: limit)
                """, table: "outbox").map(OutboxMessage.init)
        }
    }

    public func retryOutboxMessage(id: Int64, now: Date) async throws -> Bool {
        let requeued = try await write { db in
            try await db.one("""
                UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = \(bind: now.epoch)
                WHERE id = \(bind: Int(id)) AND status = 'failed' RETURNING id
                """) != nil
        }
        if requeued { outbox.enqueued() }
        return requeued
    }
}

/// The outbox row's stored forms.
enum OutboxPayload {
    static let columns = "id, idempotency_key, target, deployment_id, seq, payload, status, attempts, next_attempt_at, last_error, created_at, sent_at"

    /// Sorted keys and whole-second dates: the same event always has the same bytes.
    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return e
    }

    /// A pending row `o` with no earlier pending row of its (target, deployment) pair: the only one of the pair
    /// that may be sent now. A row waiting behind another is not due, whatever its own time says.
    static let headOfPair = """
        o.status = 'pending' AND NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.target = o.target
            AND e.deployment_id = o.deployment_id AND e.status = 'pending' AND (e.seq < o.seq OR (e.seq = o.seq AND e.id < o.id)))
        """

    /// Deterministic, so a row rewritten by a retried transaction keeps its key.
    static func key(target: String, pair: String, seq: Int, kind: String) -> String {
        "msg_\(pair)_\(seq)_\(kind.lowercased())_\(target)"
    }
}

extension OutboxMessage {
    init(_ c: Cells) throws {
        self.init(id: Int64(try c.int("id")), idempotencyKey: try c.str("idempotency_key"), target: try c.str("target"),
                  deploymentID: try c.str("deployment_id"), seq: try c.int("seq"), payload: try c.str("payload"),
                  status: try c.value("status", as: OutboxStatus.self), attempts: try c.int("attempts"),
                  nextAttemptAt: try c.date("next_attempt_at"), lastError: try c.optStr("last_error"),
                  createdAt: try c.date("created_at"), sentAt: try c.optDate("sent_at"))
    }
}
