import XCTest
final class SmokeTests: XCTestCase { func testTrue() { XCTAssertTrue(true) } }
