import Foundation
import GRDB
import Synchronization

/// Copies the write-ahead log back into the database on its own connection, a few times a second, instead of
/// SQLite's automatic checkpoint, which runs inside whichever commit crosses 1,000 pages: that commit (and
/// every delivery waiting behind it in the group commit) then also waits for the copy and an fsync of the
/// database file. Measured at 7,000 deliveries/s: p99 7.2 ms with automatic checkpoints, 3.9 ms without.
/// PASSIVE checkpoints never wait for (or block) the writer or readers. But beside a busy writer the log is
/// never found fully copied, so it would never start over: once it is past `restartFrames`, one RESTART
/// checkpoint holds new commits for the little that is left to copy, and the log starts from its beginning.
final class WALCheckpointer: Sendable {
    static let interval: Duration = .milliseconds(200)

    private let connection: DatabaseQueue
    private let walPath: String
    private let restartFrames: Int
    /// The WAL's size and change time at the last complete checkpoint: unchanged means nothing to copy.
    private let lastCopied = Mutex<(size: UInt64, modified: Date)?>(nil)
    private let loop = Mutex<Task<Void, Never>?>(nil)

    init(path: String, configuration: Configuration, restartFrames: Int) throws {
        self.restartFrames = restartFrames
        var configuration = configuration
        // A RESTART holds new commits while it waits for readers: give up soon, and try again next round.
        configuration.busyMode = .timeout(0.05)
        connection = try DatabaseQueue(path: path, configuration: configuration)
        walPath = path + "-wal"
    }

    deinit { loop.withLock { $0?.cancel() } }

    /// Starts the background checkpoints (until this object goes away).
    func start() {
        let task = Task.detached(priority: .utility) { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: WALCheckpointer.interval)
                guard let self else { return }
                _ = try? self.checkpointIfChanged()
            }
        }
        loop.withLock { $0 = task }
    }

    /// One PASSIVE checkpoint unless the WAL is unchanged since the last complete one. Returns the frames in
    /// the WAL and the frames copied (equal when everything was), or nil when skipped.
    @discardableResult
    func checkpointIfChanged() throws -> (walFrames: Int, copied: Int)? {
        let attributes = try? FileManager.default.attributesOfItem(atPath: walPath)
        let size = (attributes?[.size] as? NSNumber)?.uint64Value ?? 0
        let modified = attributes?[.modificationDate] as? Date ?? .distantPast
        if size == 0 { return nil }
        if let last = lastCopied.withLock({ $0 }), last.size == size, last.modified == modified { return nil }
        let restartFrames = self.restartFrames
        let result = try connection.writeWithoutTransaction { db in
            let copied = try db.checkpoint(.passive)
            // The file keeps its size when the log starts over: the frame count tells how long the log is.
            guard copied.walFrameCount > restartFrames else { return copied }
            return try db.checkpoint(.restart)   // little is left to copy: the passive one just ran
        }
        if result.walFrameCount == result.checkpointedFrameCount {
            lastCopied.withLock { $0 = (size, modified) }
        }
        return (result.walFrameCount, result.checkpointedFrameCount)
    }
}

extension SQLiteStore {
    /// The writer's automatic checkpoint threshold (0: off, as it must be with the checkpointer running).
    func writerAutocheckpointPages() async throws -> Int {
        try await pool.write { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") ?? -1 }
    }
}
