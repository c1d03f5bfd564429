import Foundation
import FunctionKit
import XCTest

/// The kit's event reading, in process: its error messages are what a person sees on a failed stage.
final class FunctionIOTests: XCTestCase {
    private func decode(_ text: String) -> String {
        do { _ = try FunctionIO.decodeEvent(Array(text.utf8)); return "decoded" } catch { return "\(error)" }
    }

    func testEventErrorsNameWhatIsWrong() throws {
        XCTAssertEqual(decode(""), "no event on stdin (expected one JSON object, protocol v1)")
        XCTAssertEqual(decode("[1"), "bad event on stdin: not valid JSON")
        XCTAssertEqual(decode(#"{"protocol": 1}"#), #"bad event on stdin: missing key "invocation""#)

        var event = TestEvent.make(stage: "WAIT", with: .object([:]))
        event.protocol = 2
        let text = String(decoding: try JSONEncoder().encode(event), as: UTF8.self)
        XCTAssertEqual(decode(text), "event speaks protocol 2; this function speaks protocol 1")
    }

    func testAnEventAsTheHostWritesItDecodes() throws {
        let event = TestEvent.make(stage: "WAIT", with: .object(["duration": .string("10s")]),
                                   approvals: [.init(by: "alice", at: "2030-01-01T00:00:00Z")])
        let bytes = Array(try JSONEncoder().encode(event))
        XCTAssertEqual(try FunctionIO.decodeEvent(bytes), event)
    }
}
