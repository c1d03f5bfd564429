import Foundation
import GantrySupport
import XCTest

/// What webhook senders can make the server hold before any signature is checked: nothing for a binding that does
/// not exist, and no more than `server.maxUnverifiedBytes` for all requests together.
final class UnverifiedBodyTests: XCTestCase {
    func testUnknownBindingIsAnsweredWithoutReadingItsBody() async throws {
        let (_, server, _) = try await launchServer(hook: false, serverYAML: "requestTimeout: 5s")
        defer { server.stop() }
        // 20 MB declared (under the default 25 MB cap), a few bytes sent: the answer cannot wait for the rest.
        let client = try RawConnection(port: server.port)
        let sentAt = Date()
        client.send(rawRequest("/hooks/nobody", headers: [("Content-Type", "application/json"),
                                                          ("Content-Length", "20000000")], body: Array("{\"ref\":".utf8)))
        let answer = client.readAnswer(timeout: 3)
        XCTAssertEqual(answer.status, 404)
        XCTAssertLessThan(Date().timeIntervalSince(sentAt), 3, "well before the 5 s request deadline")
        XCTAssertTrue(String(decoding: answer.body, as: UTF8.self).contains("no webhook binding"))
        XCTAssertNotNil(client.waitForClose(timeout: 5), "no further request on a connection whose body was not read")
        // A known binding still reads its body.
        let known = try RawConnection(port: server.port)
        known.send(rawRequest("/hooks/demo", headers: [("Content-Length", "2")], body: Array("{}".utf8)))
        XCTAssertEqual(known.readAnswer(timeout: 5).status, 401)
    }

    func testConcurrentUnsignedBodiesBeyondTheBudgetAre503() async throws {
        let (git, server, _) = try await launchServer(hook: false, serverYAML: """
            maxBodyBytes: 1000000
            maxUnverifiedBytes: 2500000
            requestTimeout: 2s
            """)
        defer { server.stop() }
        // Five senders each announce 1 MB and send a few bytes: the budget holds two of them (until their request
        // deadline cuts them off), whichever come first; the other three are turned away at once.
        let senders = try (0..<5).map { _ in try RawConnection(port: server.port) }
        let sentAt = Date()
        for sender in senders {
            sender.send(rawRequest("/hooks/demo", headers: [("Content-Type", "application/json"), ("X-GitHub-Event", "push"),
                                                            ("Content-Length", "1000000")], body: Array("{\"ref\":".utf8)))
        }
        // One thread per sender (not the task pool, which may be narrower than five), each noting when its answer came.
        let results = Results()
        let done = DispatchGroup()
        for sender in senders {
            done.enter()
            Thread {
                let answer = sender.readAnswer(timeout: 6)
                results.add((answer.status, Date().timeIntervalSince(sentAt), answer.headers["retry-after"]))
                done.leave()
            }.start()
        }
        done.wait()
        let answers = results.all
        let refused = answers.filter { $0.0 == 503 }
        XCTAssertEqual(refused.count, 3, "\(answers)")
        for answer in refused {
            XCTAssertLessThan(answer.1, 1.5, "answered before the body, not at the deadline")
            XCTAssertEqual(answer.2, "1")
        }
        XCTAssertEqual(answers.filter { $0.0 == 408 }.count, 2, "the two held ones are cut off at the deadline: \(answers)")

        // Their bytes are given back: a signed delivery fits again.
        let signer = WebhookSigner(secret: git.secret, url: server.url + "/hooks/demo")
        let ping = Array(#"{"zen":"ok"}"#.utf8)
        let client = try RawConnection(port: server.port)
        client.send(rawRequest("/hooks/demo", headers: [
            ("Content-Type", "application/json"), ("X-GitHub-Event", "ping"), ("X-GitHub-Delivery", UUID().uuidString),
            ("X-Hub-Signature-256", signer.signature(Data(ping))), ("Content-Length", "\(ping.count)"),
        ], body: ping))
        XCTAssertEqual(client.readAnswer(timeout: 5).status, 200)
        let refusals = try await server.deliveries()
        XCTAssertEqual(refusals.filter { $0.reason.contains("awaiting their signature check") }.count, 3)
    }
}

private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [(Int?, Double, String?)] = []
    func add(_ r: (Int?, Double, String?)) { lock.lock(); list.append(r); lock.unlock() }
    var all: [(Int?, Double, String?)] { lock.lock(); defer { lock.unlock() }; return list }
}
