import Digest
import Ingress
import XCTest

final class SignatureTests: XCTestCase {
    func testGitHubPublishedVector() {
        let mac = Digest.hmacSHA256(key: Array("It's a Secret to Everybody".utf8), Array("Hello, World!".utf8))
        XCTAssertEqual(Digest.hex(mac), "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
    }

    func testOctokitAndRFC4231Vectors() {
        XCTAssertEqual(Digest.hex(Digest.hmacSHA256(key: Array("mysecret".utf8), Array(#"{"foo":"bar"}"#.utf8))),
                       "4864d2759938a15468b5df9ade20bf161da9b4f737ea61794142f3484236bda3")
        // RFC 4231 test case 2.
        XCTAssertEqual(Digest.hex(Digest.hmacSHA256(key: Array("Jefe".utf8),
                                                     Array("what do ya want for nothing?".utf8))),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // Empty key and message must mean empty, not "reuse the previous key".
        XCTAssertEqual(Digest.hex(Digest.hmacSHA256(key: [], [])),
                       "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    func testConstantTimeEquals() {
        XCTAssertTrue(Digest.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        XCTAssertTrue(Digest.constantTimeEqual([], []))
        XCTAssertFalse(Digest.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(Digest.constantTimeEqual([1, 2, 3], [1, 2]))
        XCTAssertFalse(Digest.constantTimeEqual([], [0]))
    }

    func testPublishedVectorPassesAndAnyFlippedBitIsUnauthorized() async throws {
        let secret = "It's a Secret to Everybody"
        let expectedHex = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        let harness = try IngressHarness(branch: "main", secrets: [secret])
        let body = Array("Hello, World!".utf8)
        func send(_ body: [UInt8], signature: String) async -> IngressReply {
            await harness.ingress.handle(binding: "demo-github",
                                         headers: ["x-github-event": "push", "x-hub-signature-256": signature,
                                                   "x-github-delivery": "d-\(UUID().uuidString)"],
                                         body: body)
        }

        // Verified, then the (non-JSON) body is read: ignored, not rejected.
        let good = await send(body, signature: "sha256=" + expectedHex)
        XCTAssertEqual(good.status, 200)
        XCTAssertEqual(good.verdict, .ignored)
        XCTAssertEqual(good.reason, "unparseable payload")

        var flippedBody = body
        flippedBody[4] ^= 0x01
        let badBody = await send(flippedBody, signature: "sha256=" + expectedHex)
        XCTAssertEqual(badBody.status, 401)
        XCTAssertEqual(badBody.verdict, .unauthorized)

        var signature = try XCTUnwrap(hexBytes(expectedHex))
        signature[31] ^= 0x80
        let badSignature = await send(body, signature: "sha256=" + Digest.hex(signature))
        XCTAssertEqual(badSignature.status, 401)

        for reply in [badBody, badSignature] {
            XCTAssertFalse(reply.reason.contains(secret), reply.reason)
            XCTAssertFalse(reply.reason.lowercased().contains(expectedHex), reply.reason)
            XCTAssertFalse(reply.reason.contains(Digest.hex(Digest.hmacSHA256(key: Array(secret.utf8),
                                                                              flippedBody))), reply.reason)
        }
        let recorded = await harness.store.recordedDeliveries()
        XCTAssertEqual(recorded.count, 1, "rejected deliveries must not reach the store")
    }

    func testMissingOrMalformedSignatureIsUnauthorizedWithReason() async throws {
        let harness = try IngressHarness(branch: "master")
        let body = try GitHubDeliveries.fixture("push-new-branch")
        let valid = GitHubDeliveries.signature(body)
        let cases: [(headers: [String: String], reasonContains: String)] = [
            ([:], "missing"),
            (["x-hub-signature": "sha1=0123"], "SHA-1"),
            (["x-hub-signature-256": String(valid.dropFirst("sha256=".count))], "sha256=<64 hex digits>"),
            (["x-hub-signature-256": "sha256=zz" + valid.dropFirst("sha256=zz".count)], "sha256=<64 hex digits>"),
            (["x-hub-signature-256": String(valid.dropLast(2))], "sha256=<64 hex digits>"),
            (["x-hub-signature-256": GitHubDeliveries.signature(body, secret: "wrong")], "does not match"),
        ]
        for (signatureHeaders, expected) in cases {
            let headers = signatureHeaders.merging(["x-github-event": "push", "x-github-delivery": "one"]) { a, _ in a }
            let reply = await harness.ingress.handle(binding: "demo-github", headers: headers, body: body)
            XCTAssertEqual(reply.status, 401, "\(signatureHeaders)")
            XCTAssertEqual(reply.verdict, .unauthorized)
            XCTAssertTrue(reply.reason.contains(expected), "\(reply.reason) should mention \(expected)")
            XCTAssertFalse(reply.reason.contains(GitHubDeliveries.secret))
            XCTAssertFalse(reply.reason.contains(valid.dropFirst("sha256=".count)))
        }
        let recorded = await harness.store.recordedDeliveries()
        XCTAssertTrue(recorded.isEmpty)
        XCTAssertEqual(harness.wakeups.value, 0)
    }

    func testRotationAcceptsEverySecretAndNoOther() async throws {
        let harness = try IngressHarness(branch: "master", secrets: ["old secret", "new secret"])
        let body = try GitHubDeliveries.fixture("push-new-branch")
        let withNew = await harness.send(body, secret: "new secret")
        XCTAssertEqual(withNew.status, 202)
        let withOld = await harness.send(body, secret: "old secret")
        XCTAssertEqual(withOld.status, 202)
        let withOther = await harness.send(body, secret: "retired secret")
        XCTAssertEqual(withOther.status, 401)
    }

    private func hexBytes(_ hex: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
