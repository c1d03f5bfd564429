import XCTest

final class LambdaPlaceholderTests: XCTestCase {
    func testPlaceholder() {}
}
