import XCTest
final class IngressTestsPlaceholder: XCTestCase { func testPlaceholder() {} }
