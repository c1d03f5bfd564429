import Foundation
@testable import Ingress
import XCTest

/// Standard Webhooks as generic senders (and GitLab's signing token) use it, with its published test vector.
final class StandardWebhooksTests: XCTestCase {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    let timestamp = 1614265330
    let body = Array(#"{"test": 2432232314}"#.utf8)
    let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    func testPublishedVector() {
        XCTAssertEqual(StandardWebhooks.signature(secret: secret, id: id, timestamp: timestamp, body: body), expected)
    }

    func harness(clock seconds: Double) throws -> IngressHarness {
        let binding = WebhookBinding(id: "generic", provider: .generic, repository: "demo", branch: "main",
                                     secrets: [Array("an older secret".utf8), Array(secret.utf8)])
        return try IngressHarness(bindings: [binding], now: { Date(timeIntervalSince1970: seconds) })
    }

    func headers(signature: String? = nil, stamp: Int? = nil) -> [String: String] {
        ["webhook-id": id, "webhook-timestamp": String(stamp ?? timestamp), "webhook-signature": signature ?? expected]
    }

    func testVectorIsAcceptedWithinTheToleranceAndRefusedOutsideIt() async throws {
        let inTime = try harness(clock: Double(timestamp) + 299)
        let reply = await inTime.ingress.handle(binding: "generic", headers: headers(), body: body)
        XCTAssertEqual(reply.status, 202, reply.reason)
        XCTAssertEqual(reply.deliveryID, id)
        let triggers = await inTime.store.recordedTriggers()
        XCTAssertEqual(triggers.map(\.trigger.commit), [nil], "a body without a commit means: resolve the branch head")
        XCTAssertEqual(triggers.map(\.trigger.ref), ["refs/heads/main"])

        for offset in [-301.0, 3600] {
            let late = try harness(clock: Double(timestamp) + offset)
            let refused = await late.ingress.handle(binding: "generic", headers: headers(), body: body)
            XCTAssertEqual(refused.status, 401, "clock offset \(offset)")
            XCTAssertTrue(refused.reason.contains("possible replay"), refused.reason)
        }
    }

    func testSignatureListsAndTampering() async throws {
        let h = try harness(clock: Double(timestamp))
        let listed = await h.ingress.handle(binding: "generic",
                                            headers: headers(signature: "v2,AAAA v1,bm90IGl0 " + expected), body: body)
        XCTAssertEqual(listed.status, 202, "any listed v1 signature may match: \(listed.reason)")

        let cases: [([String: String], [UInt8], String)] = [
            (headers(), oneByteChanged(body), "does not match"),
            (headers(stamp: timestamp + 1), body, "does not match"),   // the timestamp is signed too
            (headers(signature: "v1," + Data(repeating: 0, count: 32).base64EncodedString()), body, "does not match"),
            (headers(signature: "v2,abc"), body, "no v1"),
            (headers().merging(["webhook-timestamp": "yesterday"]) { $1 }, body, "not a number"),
            (headers().filter { $0.key != "webhook-id" }, body, "webhook-id header missing"),
        ]
        for (sent, sentBody, mention) in cases {
            let reply = await h.ingress.handle(binding: "generic", headers: sent, body: sentBody)
            XCTAssertEqual(reply.status, 401, mention)
            XCTAssertTrue(reply.reason.contains(mention), "\(reply.reason) should mention \(mention)")
            XCTAssertFalse(reply.reason.contains(String(expected.dropFirst(3))), reply.reason)
        }
    }

    func testFluxStyleSignatureAndWhatAGenericBodyMayName() async throws {
        let binding = WebhookBinding(id: "generic", provider: .generic, repository: "demo", branch: "main",
                                     secrets: [Array(HostSigning.secret.utf8)])
        let h = try IngressHarness(bindings: [binding])
        let commit = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
        func send(_ text: String, extra: [String: String] = [:]) async -> IngressReply {
            let body = Array(text.utf8)
            return await h.ingress.handle(binding: "generic",
                                          headers: HostSigning.headers(.generic, body: body).merging(extra) { $1 }, body: body)
        }
        let named = await send(#"{"ref": "refs/heads/main", "after": "\#(commit)"}"#)
        XCTAssertEqual(named.status, 202, named.reason)
        let short = await send(#"{"ref": "main", "commit": "\#(commit)"}"#)
        XCTAssertEqual(short.status, 202, short.reason)
        let other = await send(#"{"ref": "develop"}"#)
        XCTAssertEqual(other.reason, "push to refs/heads/develop, binding watches main")
        let badCommit = await send(#"{"after": "HEAD"}"#)
        XCTAssertEqual(badCommit.verdict, .ignored)
        // Same text twice without an id: both count (generic senders repeat bodies for new changes)...
        let first = await send("deploy please"), second = await send("deploy please")
        XCTAssertEqual([first.status, second.status], [202, 202])
        XCTAssertNotEqual(first.deliveryID, second.deliveryID)
        // ...but a sender's own id dedupes.
        let a = await send("deploy", extra: ["x-request-id": "r-1"]), b = await send("deploy", extra: ["x-request-id": "r-1"])
        XCTAssertEqual([a.verdict, b.verdict], [.accepted, .duplicate])

        let triggers = await h.store.recordedTriggers().map(\.trigger.commit)
        XCTAssertEqual(triggers, [commit, commit, nil, nil, nil])

        let unsigned = await h.ingress.handle(binding: "generic", headers: [:], body: [])
        XCTAssertEqual(unsigned.status, 401)
        XCTAssertTrue(unsigned.reason.contains("X-Signature header missing"), unsigned.reason)
    }
}
