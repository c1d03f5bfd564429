import XCTest
final class FunctionsTestsPlaceholder: XCTestCase { func testPlaceholder() {} }
