@testable import Ingress
import Store
import XCTest

/// Several ref updates in one delivery (Bitbucket, Azure DevOps): each is judged, every accepted one is a trigger,
/// all committed with the delivery.
final class PushRulesTests: XCTestCase {
    let a = "1111111111111111111111111111111111111111"
    let b = "2222222222222222222222222222222222222222"
    let zeros = String(repeating: "0", count: 40)

    func change(_ ref: String, from: String, to: String, type: String = "UPDATE") -> String {
        #"{"refId": "\#(ref)", "fromHash": "\#(from)", "toHash": "\#(to)", "type": "\#(type)"}"#
    }

    func send(_ changes: [String], branch: String = "main") async throws -> (IngressReply, [NewTrigger], [NewDelivery]) {
        let body = Array(#"{"eventKey": "repo:refs_changed", "changes": [\#(changes.joined(separator: ","))]}"#.utf8)
        let harness = try IngressHarness(bindings: [HostSigning.binding(.bitbucketServer, branch: branch, remote: nil)])
        let reply = await harness.ingress.handle(binding: "hook", headers: HostSigning.headers(.bitbucketServer, body: body),
                                                 body: body)
        return (reply, await harness.store.recordedTriggers().map(\.trigger), await harness.store.recordedDeliveries())
    }

    func testEveryUpdateOfTheWatchedBranchBecomesATriggerInOneDelivery() async throws {
        let (reply, triggers, deliveries) = try await send([
            change("refs/heads/feature", from: a, to: b),
            change("refs/heads/main", from: zeros, to: a, type: "ADD"),
            change("refs/tags/v1", from: zeros, to: a, type: "ADD"),
            change("refs/heads/main", from: a, to: b),
        ])
        XCTAssertEqual(reply.status, 202)
        XCTAssertEqual(reply.triggerID, 1)
        XCTAssertEqual(triggers.map(\.commit), [a, b])
        XCTAssertEqual(reply.reason, "push to refs/heads/main at \(a.prefix(12)); push to refs/heads/main at \(b.prefix(12))")
        XCTAssertEqual(deliveries.count, 1)
        XCTAssertEqual(deliveries.first?.triggers.count, 2)
    }

    func testWhenNoUpdateCountsEveryReasonIsGivenOnce() async throws {
        let (reply, triggers, _) = try await send([
            change("refs/heads/feature", from: a, to: b),
            change("refs/heads/main", from: a, to: zeros, type: "DELETE"),
            change("refs/heads/feature", from: b, to: a),
        ])
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(reply.reason, "push to refs/heads/feature, binding watches main; branch deletion (refs/heads/main)")
        XCTAssertTrue(triggers.isEmpty)
        let (empty, _, _) = try await send([])
        XCTAssertEqual(empty.reason, "the delivery lists no ref updates")
    }
}
