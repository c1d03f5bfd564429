import Digest
import Foundation
import GantrySupport
import KubeSupport
import Ingress
import XCTest

/// 10,000 mutated and random webhook requests (bodies, headers, request lines) against a running server, one
/// binding per Git host: every one gets a defined status, the server never dies, and its memory stays bounded.
/// Bounded in count and time; the seed is printed so a failure can be replayed.
final class IngressFuzzTests: XCTestCase {
    static let requests = 10_000
    static let timeLimit = 150.0
    static let workers = 4
    static let definedStatuses: Set<Int> = [200, 202, 400, 401, 404, 405, 408, 413, 431]

    struct Target {
        var binding: String
        var provider: String
        var fixture: [UInt8]
    }

    func testTenThousandMutatedRequestsGetDefinedAnswers() async throws {
        let root = try makeTempDir()
        let git = try GitFixture(root: root)
        let adoSecret = root + "/ado-secret"
        try "fuzz:basic auth".write(toFile: adoSecret, atomically: true, encoding: .utf8)
        let hosts = [("gitlab", "gitlab", "push"), ("gitea", "gitea", "push"), ("bitbucket", "bitbucket-cloud", "repo-push"),
                     ("bitbucket-server", "bitbucket-server", "repo-refs-changed"),
                     ("azure-devops", "azure-devops", "git-push"), ("generic", "gitea", "push")]
        var more = ""
        for (provider, _, _) in hosts {
            more += """
            - id: repo-\(provider)
              remote: \(git.bare)
              reconcile: 0
              webhook: {binding: \(provider), provider: \(provider), secrets: [file:\(provider == "azure-devops" ? adoSecret : git.secretFile)]}

            """
        }
        let server = try ServerProcess(root: root, git: git, serverYAML: "maxBodyBytes: 16384\nmaxHeaderBytes: 8192\nrequestTimeout: 5s\nheaderTimeout: 3s",
                                       repositoryYAML: "reconcile: 0", moreRepositoriesYAML: more)
        try await server.start()
        let pid = try XCTUnwrap(server.process?.processIdentifier)

        let targets = [Target(binding: "demo", provider: "github", fixture: try fixture("github", "push-new-branch"))]
            + (try hosts.map { provider, folder, file in Target(binding: provider, provider: provider, fixture: try fixture(folder, file)) })
        let secret = git.secret
        let seed = UInt64(Date().timeIntervalSince1970 * 1000)
        print("IngressFuzzTests seed \(seed)")

        let started = Date()
        let results = FuzzResults()
        let port = server.port
        var baseline = 0
        // A warm-up round first, so the memory baseline includes caches that fill once.
        for phase in 0..<2 {
            let count = phase == 0 ? 500 : Self.requests - 500
            DispatchQueue.concurrentPerform(iterations: Self.workers) { worker in
                var random = SplitMix64(seed: seed &+ UInt64(phase * 100 + worker))
                var connection: RawConnection?
                for _ in 0..<(count / Self.workers) {
                    if Date().timeIntervalSince(started) > Self.timeLimit { return }
                    let target = targets[Int(random.next() % UInt64(targets.count))]
                    let request = Self.mutatedRequest(target, secret: secret, random: &random)
                    results.record(Self.exchange(request, port: port, reusing: &connection), request: request)
                }
            }
            if phase == 0 { baseline = residentKiB(pid) }
        }

        let elapsed = Date().timeIntervalSince(started)
        let summary = results.summary()
        print("IngressFuzzTests: \(summary.total) requests in \(String(format: "%.1f", elapsed)) s, statuses \(summary.byStatus)")
        XCTAssertEqual(summary.total, Self.requests, "stopped at the \(Self.timeLimit) s bound")
        XCTAssertTrue(summary.undefined.isEmpty, "answers outside the defined set: \(summary.undefined.prefix(5))")
        XCTAssertTrue(server.process?.isRunning ?? false, "the server died: \(server.logText().suffix(2000))")
        let grown = residentKiB(pid) - baseline
        print("IngressFuzzTests: resident memory \(baseline) KiB after warm-up, grew \(grown) KiB")
        XCTAssertLessThan(grown, 64 * 1024, "memory must stay bounded")
        // Each kind of answer happened (the mutations reach every layer), and the server still works.
        for status in [200, 202, 400, 401, 404, 413, 431] { XCTAssertGreaterThan(summary.byStatus[status] ?? 0, 0, "no \(status)") }
        let health = try await server.request("GET", "/healthz", auth: false)
        XCTAssertEqual(health.status, 200)
        server.stop()
    }

    private func fixture(_ host: String, _ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../IngressTests/Fixtures/\(host)/\(name).json")
        return Array(try Data(contentsOf: url))
    }

    // MARK: requests

    /// The headers with which `provider` would send `body` signed with `secret`.
    static func signedHeaders(_ provider: String, body: [UInt8], secret: String, id: String) -> [(String, String)] {
        let hex = Digest.hex(Digest.hmacSHA256(key: Array(secret.utf8), body))
        switch provider {
        case "github": return [("X-GitHub-Event", "push"), ("X-GitHub-Delivery", id), ("X-Hub-Signature-256", "sha256=" + hex)]
        case "gitlab": return [("X-Gitlab-Event", "Push Hook"), ("Idempotency-Key", id), ("X-Gitlab-Token", secret)]
        case "gitea": return [("X-Gitea-Event", "push"), ("X-Gitea-Delivery", id), ("X-Gitea-Signature", hex)]
        case "bitbucket": return [("X-Event-Key", "repo:push"), ("X-Request-UUID", id), ("X-Hub-Signature", "sha256=" + hex)]
        case "bitbucket-server":
            return [("X-Event-Key", "repo:refs_changed"), ("X-Request-Id", id), ("X-Hub-Signature", "sha256=" + hex)]
        case "azure-devops": return [("Authorization", "Basic " + Data("fuzz:basic auth".utf8).base64EncodedString())]
        default: return [("X-Request-Id", id), ("X-Signature", "sha256=" + hex)]
        }
    }

    static func mutatedRequest(_ target: Target, secret: String, random: inout SplitMix64) -> [UInt8] {
        var body = target.fixture
        let id = "fuzz-\(random.next())"
        var path = "/hooks/\(target.binding)"
        var method = "POST"
        var headers = [("Content-Type", "application/json")] + signedHeaders(target.provider, body: body, secret: secret, id: id)
        switch random.next() % 12 {
        case 0: break                                                    // as sent
        case 1: random.flipBytes(&body)                                  // tampered after signing
        case 2:                                                          // tampered, then signed: the payload is read
            random.flipBytes(&body)
            headers = [("Content-Type", "application/json")] + signedHeaders(target.provider, body: body, secret: secret, id: id)
        case 3:                                                          // random bytes, signed
            body = random.bytes(Int(random.next() % 2048))
            headers = [("Content-Type", random.pick(["application/json", "application/x-www-form-urlencoded", "text/plain"]))]
                + signedHeaders(target.provider, body: body, secret: secret, id: id)
        case 4: body = Array(body.prefix(Int(random.next() % UInt64(body.count + 1))))   // truncated after signing
        case 5:                                                          // garbage in one header
            let index = Int(random.next() % UInt64(headers.count))
            headers[index].1 = random.headerText(Int(random.next() % 200))
        case 6: headers.remove(at: Int(random.next() % UInt64(headers.count)))
        case 7: path = "/hooks/" + random.pick(["nobody", "%00", "..%2F..%2Fetc", String(repeating: "b", count: 300), ""])
        case 8: method = random.pick(["GET", "PUT", "DELETE", "PATCH"])
        case 9: headers.append(("X-Filler", String(repeating: "f", count: 9000)))    // over the header cap
        case 10: body = Array(repeating: random.bytes(250), count: 70).flatMap { $0 }  // over the body cap
        default:                                                         // not HTTP at all
            return random.bytes(1 + Int(random.next() % 300)) + Array("\r\n\r\n".utf8)
        }
        headers.append(("Content-Length", "\(body.count)"))
        return rawRequest(path, method: method, headers: headers, body: body)
    }

    /// Sends one request, on the previous connection while the server keeps it open; the status, or nil
    /// when none came. Only answers ingress gives after reading the whole body keep the connection: after one
    /// given before the body was read (413, a route that does not exist) or to a broken request (400, 431)
    /// the server ends it, so the next request opens a new one.
    static func exchange(_ request: [UInt8], port: Int, reusing connection: inout RawConnection?) -> Int? {
        if connection == nil || connection?.isClosedByServer == true { connection = try? RawConnection(port: port) }
        guard let current = connection else { return nil }
        current.send(request)
        let answer = current.readAnswer(timeout: 10)
        if answer.status.map({ ![200, 202, 401].contains($0) }) ?? true || answer.headers["connection"] == "close" {
            connection = nil
        }
        return answer.status
    }
}

/// Status counts shared by the fuzz workers.
final class FuzzResults: @unchecked Sendable {
    private let lock = NSLock()
    private var byStatus: [Int: Int] = [:]
    private var undefined: [String] = []
    private var total = 0

    func record(_ status: Int?, request: [UInt8]) {
        lock.lock(); defer { lock.unlock() }
        total += 1
        byStatus[status ?? 0, default: 0] += 1
        if status.map({ !IngressFuzzTests.definedStatuses.contains($0) }) ?? true {
            undefined.append("\(status.map(String.init) ?? "no answer") for \(String(decoding: request.prefix(160), as: UTF8.self))")
        }
    }

    func summary() -> (total: Int, byStatus: [Int: Int], undefined: [String]) {
        lock.lock(); defer { lock.unlock() }
        return (total, byStatus, undefined)
    }
}

/// Byte-level mutations for the ingress fuzz, on the shared seeded generator.
extension SplitMix64 {
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }

    mutating func pick<T>(_ choices: [T]) -> T { choices[Int(next() % UInt64(choices.count))] }

    mutating func flipBytes(_ body: inout [UInt8]) {
        guard !body.isEmpty else { return }
        for _ in 0...(next() % 4) { body[Int(next() % UInt64(body.count))] ^= UInt8(truncatingIfNeeded: next() | 1) }
    }

    /// Printable-ish header text (no CR/LF, which would end the header).
    mutating func headerText(_ count: Int) -> String {
        String(decoding: (0..<count).map { _ in UInt8(32 + next() % 95) }, as: UTF8.self)
    }
}

/// The resident set size of a process, from /proc.
func residentKiB(_ pid: Int32) -> Int {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}
