import Foundation
@testable import Ingress
import XCTest

/// The payload reader agrees with Foundation on valid JSON and refuses what is not JSON.
final class LooseJSONParserTests: XCTestCase {
    func testAgreesWithFoundationOnTheFixtures() throws {
        for (host, file) in [("github", "push-new-branch"), ("github", "ping"), ("gitlab", "push"), ("gitea", "push"),
                             ("bitbucket-cloud", "repo-push"), ("bitbucket-server", "repo-refs-changed"),
                             ("azure-devops", "git-push")] {
            let bytes = try HostSigning.fixture(host, file)
            let ours = try XCTUnwrap(LooseJSON.parse(bytes), file)
            let theirs = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            XCTAssertEqual(ours, Self.loose(theirs), "\(host)/\(file)")
        }
    }

    func testValues() {
        let cases: [(String, LooseJSON)] = [
            (#"  {"a": [1, -2.5e3, 0.25, true, false, null, "x"]} "#,
             .object(["a": .array([.number(1), .number(-2500), .number(0.25), .bool(true), .bool(false), .null, .string("x")])])),
            (#""tab\tquote\"slash\/ \u00e9 \ud83d\ude00 \\""#, .string("tab\tquote\"slash/ é 😀 \\")),
            (#"{"k": 1, "k": 2}"#, .object(["k": .number(2)])),
            ("[]", .array([])), ("{}", .object([:])), ("0", .number(0)), (#""""#, .string("")),
        ]
        for (text, expected) in cases { XCTAssertEqual(LooseJSON.parse(Array(text.utf8)), expected, text) }
    }

    func testRefusesWhatIsNotJSON() {
        let bad = ["", " ", "{", "}", "[1,]", "{\"a\":1,}", "{a:1}", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul",
                   "\"unterminated", "\"bad \\x escape\"", "\"\\ud800 lone surrogate\"", "\"\\udc00\"", "\"ctrl \u{01}\"",
                   "[1] [2]", "{\"a\" 1}", "NaN", "Infinity", "\"\\u12\""]
        for text in bad { XCTAssertNil(LooseJSON.parse(Array(text.utf8)), text) }
        XCTAssertNil(LooseJSON.parse([0x22, 0xff, 0xfe, 0x22]), "invalid UTF-8")
        XCTAssertNil(LooseJSON.parse(Array(String(repeating: "[", count: 100_000).utf8)), "deep nesting is bounded")
        let deepButFine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        XCTAssertNotNil(LooseJSON.parse(Array(deepButFine.utf8)))
    }

    static func loose(_ value: Any) -> LooseJSON {
        switch value {
        case is NSNull: return .null
        case let n as NSNumber where String(cString: n.objCType) == "c": return .bool(n.boolValue)
        case let n as NSNumber: return .number(n.doubleValue)
        case let s as String: return .string(s)
        case let a as [Any]: return .array(a.map(loose))
        case let o as [String: Any]: return .object(o.mapValues(loose))
        default: return .null
        }
    }
}
