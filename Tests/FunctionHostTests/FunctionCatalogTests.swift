import Foundation
@testable import FunctionHost
import GantrySupport
import XCTest

/// What keeping functions current costs: the folders are read again only after something in them changed, however
/// often the engine looks a function up.
final class FunctionCatalogTests: XCTestCase {
    func testFoldersAreReadAgainOnlyWhenSomethingInThemChanged() throws {
        let root = try makeTempDir()
        let dir = try writeScriptFunctions(in: root, [("one", "stages: [ONE]", "cat > /dev/null")])
        // Compares the stamps at every lookup.
        let catalog = FunctionCatalog(paths: [dir], executableSearchPaths: [], checkInterval: 0)
        XCTAssertEqual(catalog.reads, 1)
        for _ in 0..<100 {
            XCTAssertNotNil(catalog.function(forStage: "ONE", platformKind: nil))
            XCTAssertNil(catalog.function(forStage: "MISSING", platformKind: nil))
            _ = catalog.registry
        }
        XCTAssertEqual(catalog.reads, 1, "nothing changed: compared 300 times, never read again")

        _ = try writeScriptFunctions(in: root, [("two", "stages: [TWO]", "cat > /dev/null")])
        XCTAssertEqual(catalog.function(forStage: "TWO", platformKind: nil)?.name, "two")
        XCTAssertEqual(catalog.reads, 2, "a folder added")

        // Edited in place: same file, new contents.
        let before = try XCTUnwrap(catalog.function(forStage: "ONE", platformKind: nil)).version
        try "name: one\nstages: [ONE, UNO]\ncommand: [./run.sh]\n"
            .write(toFile: dir + "/one/function.yaml", atomically: false, encoding: .utf8)
        XCTAssertEqual(catalog.function(forStage: "UNO", platformKind: nil)?.name, "one")
        XCTAssertNotEqual(catalog.function(forStage: "ONE", platformKind: nil)?.version, before)
        XCTAssertEqual(catalog.reads, 3, "a function.yaml edited")

        // Within a long interval a hit compares only its own folder; a changed or removed one is read again at once.
        let slow = FunctionCatalog(paths: [dir], executableSearchPaths: [], checkInterval: 3600)
        XCTAssertNotNil(slow.function(forStage: "TWO", platformKind: nil))
        try FileManager.default.removeItem(atPath: dir + "/two")
        XCTAssertNil(slow.function(forStage: "TWO", platformKind: nil), "a removed function is not served")
        XCTAssertEqual(slow.reads, 2)
        XCTAssertNotNil(slow.function(forStage: "UNO", platformKind: nil))
        XCTAssertNil(slow.function(forStage: "TWO", platformKind: nil))
        XCTAssertEqual(slow.reads, 2)
    }
}
