import XCTest
final class PlannerTestsPlaceholder: XCTestCase { func testPlaceholder() {} }
