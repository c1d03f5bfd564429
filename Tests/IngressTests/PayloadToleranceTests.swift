import Ingress
import Store
import XCTest

/// Every payload field is optional: whatever a verified body looks like, the answer is a 2xx with a reason.
final class PayloadToleranceTests: XCTestCase {
    let commit = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
    let zeros = String(repeating: "0", count: 40)

    /// A minimal push to refs/heads/main; `replacing` swaps or (with nil) removes top-level fields.
    func push(replacing changes: [String: String?] = [:]) -> [UInt8] {
        var fields: [String: String] = [
            "ref": #""refs/heads/main""#,
            "before": "\"\(zeros)\"",
            "after": "\"\(commit)\"",
            "repository": #"{"clone_url": "https://example.com/demo.git"}"#,
        ]
        for (key, value) in changes { fields[key] = value }
        let members = fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }
        return Array("{\(members.joined(separator: ", "))}".utf8)
    }

    func testMissingOrMistypedFieldsAreIgnoredWithReason() async throws {
        let harness = try IngressHarness(branch: "main")
        let cases: [(body: [UInt8], reason: String)] = [
            (push(replacing: ["ref": "5"]), #"payload field "ref" is missing or not a string"#),
            (push(replacing: ["ref": nil]), #"payload field "ref" is missing or not a string"#),
            (push(replacing: ["after": "null"]), #"payload field "after" is missing or not a string"#),
            (push(replacing: ["after": "[]"]), #"payload field "after" is missing or not a string"#),
            (push(replacing: ["repository": nil]), #"payload field "repository" is missing or not an object"#),
            (push(replacing: ["repository": #""demo""#]), #"payload field "repository" is missing or not an object"#),
            (push(replacing: ["deleted": #""yes""#]), #"payload field "deleted" is missing or not a boolean"#),
            (push(replacing: ["after": #""not-a-commit""#]), #"push to refs/heads/main names no commit id in "after""#),
            (push(replacing: ["ref": #""refs/pull/1/head""#]), "push to refs/pull/1/head, which is not a branch"),
            (push(replacing: ["deleted": "true", "after": "\"\(zeros)\""]), "branch deletion (refs/heads/main)"),
            (push(replacing: ["after": "\"\(zeros)\""]), "push to refs/heads/main has no new commit (after is all zeros)"),
            (Array("[1, 2]".utf8), "unparseable payload: not a JSON object"),
            (Array(#""just a string""#.utf8), "unparseable payload: not a JSON object"),
            (Array("{\"ref\": ".utf8), "unparseable payload"),
            (Array(String(repeating: "[", count: 100_000).utf8), "unparseable payload"),
            ([], "unparseable payload"),
            ([0xff, 0xfe, 0x00], "unparseable payload"),
        ]
        for (body, reason) in cases {
            let reply = await harness.send(body)
            XCTAssertEqual(reply.status, 200, String(decoding: body.prefix(200), as: UTF8.self))
            XCTAssertEqual(reply.verdict, .ignored)
            XCTAssertEqual(reply.reason, reason, String(decoding: body.prefix(200), as: UTF8.self))
        }
        let triggers = await harness.store.recordedTriggers()
        XCTAssertTrue(triggers.isEmpty)
        let recorded = await harness.store.recordedDeliveries()
        XCTAssertEqual(recorded.count, cases.count, "ignored deliveries are recorded with their reason")
        XCTAssertEqual(recorded.map(\.reason), cases.map(\.reason))
        XCTAssertEqual(harness.wakeups.value, 0)
    }

    func testDisplayOnlyFieldsMayBeMissingOrMistyped() async throws {
        let harness = try IngressHarness(branch: "main")
        let bare = await harness.send(push(replacing: ["before": nil]))
        XCTAssertEqual(bare.status, 202)
        let odd = await harness.send(push(replacing: ["head_commit": #"{"message": 5, "author": "x"}"#,
                                                      "pusher": #"{"name": "Octo Pusher"}"#,
                                                      "deleted": "false"]))
        XCTAssertEqual(odd.status, 202)
        let triggers = await harness.store.recordedTriggers().map(\.trigger)
        XCTAssertEqual(triggers, [
            NewTrigger(repository: "demo", ref: "refs/heads/main", commit: commit, kind: .webhook),
            NewTrigger(repository: "demo", ref: "refs/heads/main", commit: commit, kind: .webhook,
                       commitMessage: "", author: "Octo Pusher"),
        ])
    }
}
