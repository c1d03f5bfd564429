import Foundation
import GantrySupport
import XCTest

/// The guards in front of `/hooks`, against a real `gantry serve` over raw TCP: the body cap answers before
/// the body is read, slow clients are cut off at their deadlines while others are served, the in-flight limit
/// turns requests away with 503 + Retry-After, and oversized heads get 431.
final class IngressGuardTests: XCTestCase {
    static let bodyCap = 4096
    static let serverYAML = """
        maxBodyBytes: \(bodyCap)
        maxHeaderBytes: 4096
        maxInFlightHooks: 2
        headerTimeout: 1s
        requestTimeout: 2s
        """

    func signedPing(_ signer: WebhookSigner, size: Int? = nil) -> [UInt8] {
        var body = Array(#"{"zen":"Keep it logically awesome."}"#.utf8)
        if let size { body += Array(repeating: UInt8(ascii: " "), count: size - body.count) }   // JSON allows trailing blanks
        return rawRequest("/hooks/demo", headers: [
            ("Content-Type", "application/json"), ("X-GitHub-Event", "ping"), ("X-GitHub-Delivery", UUID().uuidString),
            ("X-Hub-Signature-256", signer.signature(Data(body))), ("Content-Length", "\(body.count)"),
        ], body: body)
    }

    func testBodyOneByteOverTheCapIs413WithoutReadingIt() async throws {
        let (git, server, _) = try await launchServer(hook: false, serverYAML: Self.serverYAML)
        let signer = WebhookSigner(secret: git.secret, url: server.url + "/hooks/demo")

        // Only the head is sent: the answer comes without the server waiting for (or reading) any body,
        // well before the 2 s request deadline could have ended it.
        let over = try RawConnection(port: server.port)
        let sentAt = Date()
        over.send(rawRequest("/hooks/demo", headers: [("Content-Type", "application/json"),
                                                      ("Content-Length", "\(Self.bodyCap + 1)")]))
        let answer = over.readAnswer(timeout: 1.5)
        XCTAssertEqual(answer.status, 413)
        XCTAssertLessThan(Date().timeIntervalSince(sentAt), 1.5)
        XCTAssertTrue(String(decoding: answer.body, as: UTF8.self).contains("exceeds the limit of \(Self.bodyCap)"))
        XCTAssertNotNil(over.waitForClose(timeout: 3), "no further request on a connection whose body was refused")

        // Exactly at the cap is fine.
        let atCap = try RawConnection(port: server.port)
        atCap.send(signedPing(signer, size: Self.bodyCap))
        XCTAssertEqual(atCap.readAnswer(timeout: 5).status, 200)

        // Without a Content-Length (chunked), the cap holds while reading.
        let chunked = try RawConnection(port: server.port)
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: Self.bodyCap + 1)
        chunked.send(rawRequest("/hooks/demo", headers: [("Transfer-Encoding", "chunked")])
                     + Array("\(String(chunk.count, radix: 16))\r\n".utf8) + chunk + Array("\r\n0\r\n\r\n".utf8))
        XCTAssertEqual(chunked.readAnswer(timeout: 5).status, 413)

        let refusals = try await server.deliveries()
        XCTAssertEqual(refusals.filter { $0.verdict == "too-large" }.count, 2, "\(refusals)")
        server.stop()
    }

    func testTricklingClientsAreCutOffWhileOthersAreServed() async throws {
        let (git, server, _) = try await launchServer(hook: false, serverYAML: Self.serverYAML)
        let signer = WebhookSigner(secret: git.secret, url: server.url + "/hooks/demo")

        // One client trickles its body a byte every 100 ms, another its head.
        let bodyTrickler = try RawConnection(port: server.port)
        bodyTrickler.send(rawRequest("/hooks/demo", headers: [("Content-Type", "application/json"), ("Content-Length", "200")]))
        let headTrickler = try RawConnection(port: server.port)
        let started = Date()
        let trickling = Task.detached {
            var body: Double?, head: Double?
            var sent = 0
            while body == nil || head == nil, Date().timeIntervalSince(started) < 8 {
                if body == nil, !bodyTrickler.send("x") || bodyTrickler.isClosedByServer { body = Date().timeIntervalSince(started) }
                if head == nil, !headTrickler.send(sent == 0 ? "POST /hooks/demo HTTP/1.1\r\nX-Slow: " : "y")
                    || headTrickler.isClosedByServer { head = Date().timeIntervalSince(started) }
                sent += 1
                _ = bodyTrickler.waitForClose(timeout: 0.1)
                _ = headTrickler.waitForClose(timeout: 0.001)
            }
            return (body, head)
        }

        // Meanwhile others are served promptly.
        var served = 0
        var slowest = 0.0
        while Date().timeIntervalSince(started) < 1.5 {
            let client = try RawConnection(port: server.port)
            let sentAt = Date()
            client.send(signedPing(signer))
            let status = client.readAnswer(timeout: 5).status
            XCTAssertEqual(status, 200)
            slowest = max(slowest, Date().timeIntervalSince(sentAt))
            served += 1
        }
        XCTAssertGreaterThanOrEqual(served, 5)
        XCTAssertLessThan(slowest, 1.0, "a trickling client must not hold up the others")

        let (bodyCut, headCut) = await trickling.value
        let body = try XCTUnwrap(bodyCut, "the body trickler was never cut off")
        let head = try XCTUnwrap(headCut, "the head trickler was never cut off")
        XCTAssertGreaterThan(head, 0.8); XCTAssertLessThan(head, 3.0, "header deadline 1 s")
        XCTAssertGreaterThan(body, 1.8); XCTAssertLessThan(body, 4.0, "request deadline 2 s")
        server.stop()
    }

    func testInFlightLimitAnswers503WithRetryAfterThenRecovers() async throws {
        let (git, server, _) = try await launchServer(hook: false, serverYAML: Self.serverYAML)
        let signer = WebhookSigner(secret: git.secret, url: server.url + "/hooks/demo")
        // Two requests whose bodies never come hold both slots (until their 2 s deadline).
        let holders = try (0..<2).map { _ in try RawConnection(port: server.port) }
        for holder in holders {
            holder.send(rawRequest("/hooks/demo", headers: [("Content-Length", "100")], body: Array("{".utf8)))
        }
        _ = try await eventually("both holders in flight", timeout: 5) {
            let metrics = String(decoding: try await server.request("GET", "/metrics", auth: false).data, as: UTF8.self)
            return metrics.contains("gantry_webhook_in_flight 2") ? true : nil
        }
        let third = try RawConnection(port: server.port)
        third.send(signedPing(signer))
        let refused = third.readAnswer(timeout: 2)
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.headers["retry-after"], "1")
        XCTAssertTrue(String(decoding: refused.body, as: UTF8.self).contains("in flight"))

        // Once the holders are cut off at their deadline, requests are served again.
        for holder in holders { XCTAssertEqual(holder.readAnswer(timeout: 5).status, 408) }
        let client = try RawConnection(port: server.port)
        client.send(signedPing(signer))
        XCTAssertEqual(client.readAnswer(timeout: 5).status, 200)
        let metrics = String(decoding: try await server.request("GET", "/metrics", auth: false).data, as: UTF8.self)
        XCTAssertTrue(metrics.contains(#"gantry_webhook_deliveries_total{binding="demo",verdict="overloaded"}"#), metrics)
        server.stop()
    }

    func testPipelinedRequestsOnOneConnectionAreAllAnswered() async throws {
        let (git, server, _) = try await launchServer(hook: false, serverYAML: Self.serverYAML)
        let signer = WebhookSigner(secret: git.secret, url: server.url + "/hooks/demo")
        let client = try RawConnection(port: server.port)
        client.send(signedPing(signer) + signedPing(signer) + signedPing(signer))   // before any answer
        for n in 1...3 { XCTAssertEqual(client.readAnswer(timeout: 5).status, 200, "answer \(n)") }
        XCTAssertFalse(client.isClosedByServer, "a kept-alive connection stays open between requests")
        server.stop()
    }

    func testOversizedHeadIs431() async throws {
        let (_, server, _) = try await launchServer(hook: false, serverYAML: Self.serverYAML)
        let client = try RawConnection(port: server.port)
        client.send(rawRequest("/hooks/demo", headers: [("X-Filler", String(repeating: "a", count: 5000)),
                                                        ("Content-Length", "0")]))
        let answer = client.readAnswer(timeout: 5)
        XCTAssertEqual(answer.status, 431)
        XCTAssertNotNil(client.waitForClose(timeout: 3))
        let health = try await server.request("GET", "/healthz", auth: false)
        XCTAssertEqual(health.status, 200)
        server.stop()
    }
}
