import Foundation
import XCTest

/// A throwaway real PostgreSQL (Debian's postgresql-15): `initdb` into a temp dir, `pg_ctl start` on a free
/// loopback port, one per test process, stopped when the process exits. initdb refuses to run as root, so as
/// root the server runs as the `postgres` user. Every test gets a fresh database of its own (`makeDatabase`).
package final class PostgresCluster: @unchecked Sendable {
    package static let bin = "/usr/lib/postgresql/15/bin"
    package let dir: String
    package let port: Int

    /// The cluster of this test process, started on first use.
    static let shared: Result<PostgresCluster, Error> = Result { try PostgresCluster() }

    package static func get() throws -> PostgresCluster {
        guard FileManager.default.isExecutableFile(atPath: bin + "/initdb") else {
            throw NSError(domain: "postgres", code: 1, userInfo: [NSLocalizedDescriptionKey:
                "PostgreSQL 15 is not installed (\(bin)/initdb): run `make test`, which installs postgresql-15"])
        }
        return try shared.get()
    }

    private init() throws {
        Self.stopClustersOfDeadRuns()
        let root = try makeTempDir("gantry-pg")
        try String(getpid()).write(toFile: root + "/owner-pid", atomically: true, encoding: .utf8)
        dir = root + "/cluster"
        port = freePort()
        if getuid() == 0 { _ = try sh(["chown", "-R", "postgres:postgres", root]) }
        try Self.asOwner([Self.bin + "/initdb", "-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        // fsync off: these databases live for one test run; durability is the SQLite tests' and the bench's matter.
        // Not through Foundation's Process: the server pg_ctl leaves running inherits whatever pipe it is given and
        // holds it open, and its exit was not always noticed. posix_spawn with /dev/null and waitpid instead.
        let status = Self.spawnAndWait((getuid() == 0 ? ["runuser", "-u", "postgres", "--"] : []) + [
            Self.bin + "/pg_ctl", "-D", dir, "-l", root + "/postgres.log", "-w", "-t", "60", "-o",
            "-p \(port) -k \(root) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300", "start"])
        guard status == 0 else {
            throw NSError(domain: "postgres", code: 2, userInfo: [NSLocalizedDescriptionKey: "pg_ctl start failed: "
                + ((try? String(contentsOfFile: root + "/postgres.log", encoding: .utf8)) ?? "")])
        }
        PostgresCluster.stopAtExit = dir
        atexit {
            guard let dir = PostgresCluster.stopAtExit else { return }
            _ = PostgresCluster.spawnAndWait((getuid() == 0 ? ["runuser", "-u", "postgres", "--"] : [])
                + [PostgresCluster.bin + "/pg_ctl", "-D", dir, "-m", "immediate", "-w", "stop"])
            try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent)
        }
    }

    nonisolated(unsafe) static var stopAtExit: String?

    /// A test process that crashed (a fatal error skips atexit) leaves its cluster running: the next run stops
    /// every cluster whose owner process is gone.
    static func stopClustersOfDeadRuns() {
        let tmp = NSTemporaryDirectory()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? [] where name.hasPrefix("gantry-pg-") {
            let root = tmp + "/" + name
            guard let text = try? String(contentsOfFile: root + "/owner-pid", encoding: .utf8),
                  let pid = Int32(text), kill(pid, 0) != 0 || isZombie(pid) else { continue }
            _ = spawnAndWait((getuid() == 0 ? ["runuser", "-u", "postgres", "--"] : [])
                + [bin + "/pg_ctl", "-D", root + "/cluster", "-m", "immediate", "-w", "stop"])
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    /// Runs a command with stdin/stdout/stderr on /dev/null and returns its exit status.
    static func spawnAndWait(_ args: [String]) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        let argv = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, args[0], &actions, nil, argv, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status >> 8) & 0xff
    }

    @discardableResult
    static func asOwner(_ args: [String]) throws -> String {
        try sh(getuid() == 0 ? ["runuser", "-u", "postgres", "--"] + args : args)
    }

    /// A new empty database; returns its URL.
    package func makeDatabase() throws -> String {
        let name = "gantry_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        try psql("CREATE DATABASE \(name)")
        return url(name)
    }

    package func url(_ database: String) -> String { "postgres://postgres@127.0.0.1:\(port)/\(database)" }

    @discardableResult
    package func psql(_ sql: String, database: String = "postgres") throws -> String {
        try sh(["psql", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1",
                "-Atqc", sql])
    }
}
