import FunctionKit
import Logging
import Planner
import Store
import XCTest

/// A remote's user-info (a token, a password) never reaches a log line, a trigger note or an error.
final class RemoteCredentialsTests: XCTestCase {
    func testUserInfoIsMaskedWhereverAURLAppears() {
        XCTAssertEqual(URLCredentials.redact("git fetch https://deploy:s3cr3t@git.example/a.git +refs/heads/main"),
                       "git fetch https://***@git.example/a.git +refs/heads/main")
        XCTAssertEqual(URLCredentials.redact("fatal: unable to access 'https://x-token:abc@host:8443/r/': 403"),
                       "fatal: unable to access 'https://***@host:8443/r/': 403")
        XCTAssertEqual(URLCredentials.redact("a http://u@h/ and b ssh://git:pw@h2/x"), "a http://***@h/ and b ssh://***@h2/x")
        XCTAssertEqual(URLCredentials.redact("mail me: me@example.com, see https://example.com/a@b"),
                       "mail me: me@example.com, see https://example.com/a@b")
        XCTAssertEqual(URLCredentials.redact("no url here"), "no url here")
    }

    func testAFailedFetchThrowsAndLogsWithoutTheRemotesPassword() async throws {
        let store = InMemoryStore()
        let lines = LogLines()
        var logger = Logger(label: "credentials-test") { _ in CollectingHandler(lines: lines) }
        logger.logLevel = .info
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("creds-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let remote = "https://deploy:s3cr3t-token@127.0.0.1:1/demo.git"
        let planner = Planner(store: store, repositories: [RepositoryConfig(id: "demo", remote: remote, branch: "main")],
                              platforms: [], functions: nil, dataDir: dataDir, logger: logger)
        _ = try await store.addTrigger(pushTrigger(String(repeating: "a", count: 40)))
        do {
            _ = try await planner.planPending()
            XCTFail("an unreachable remote must fail")
        } catch {
            XCTAssertTrue("\(error)".contains("https://***@127.0.0.1:1/demo.git"), "\(error)")
            XCTAssertFalse("\(error)".contains("s3cr3t"), "\(error)")
        }
        XCTAssertFalse(lines.all.joined(separator: "\n").contains("s3cr3t"), lines.all.joined(separator: "\n"))
    }
}

final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}

/// Keeps every log line (message and metadata) so a test can search them.
struct CollectingHandler: LogHandler {
    let lines: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
             function: String, line: UInt) {
        lines.add("\(message) \(metadata ?? [:])")
    }
}
