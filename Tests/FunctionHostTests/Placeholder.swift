import XCTest
final class FunctionHostTestsPlaceholder: XCTestCase { func testPlaceholder() {} }
