import Foundation
import GantrySupport
@testable import Server
import XCTest

/// `server.database` picks the store; a URL with a password comes from the environment or a file, and a value that
/// is neither SQLite nor PostgreSQL is refused with a clear message.
final class StoreSelectionTests: XCTestCase {
    func testSQLiteByDefaultAPostgresURLInlineFromEnvOrFileAndBadValuesRefused() throws {
        XCTAssertEqual(try StoreSelection.parse(nil, dataDir: "/d"), .sqlite(path: "/d/gantry.sqlite"))
        XCTAssertEqual(try StoreSelection.parse("sqlite", dataDir: "/d"), .sqlite(path: "/d/gantry.sqlite"))
        XCTAssertEqual(try StoreSelection.parse("sqlite:/x/y.sqlite", dataDir: "/d"), .sqlite(path: "/x/y.sqlite"))
        let url = "postgres://gantry:s3cret@db:5432/gantry"
        XCTAssertEqual(try StoreSelection.parse(url, dataDir: "/d"), .postgres(url: url))
        setenv("GANTRY_TEST_DB_URL", url, 1)
        XCTAssertEqual(try StoreSelection.parse("env:GANTRY_TEST_DB_URL", dataDir: "/d"), .postgres(url: url))
        let file = try makeTempDir() + "/db-url"
        try (url + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try StoreSelection.parse("file:" + file, dataDir: "/d"), .postgres(url: url))
        XCTAssertThrowsError(try StoreSelection.parse("mysql://x", dataDir: "/d")) { error in
            XCTAssertTrue("\(error)".contains("expected sqlite"), "\(error)")
        }
        XCTAssertThrowsError(try StoreSelection.parse("env:GANTRY_TEST_UNSET_VARIABLE", dataDir: "/d"))
    }

    func testReplicaIDIsKeptInTheDataDirAndAnExplicitOneMustNotContainASlash() throws {
        let dir = try makeTempDir()
        let first = try ReplicaIdentity.resolve(explicit: nil, dataDir: dir)
        XCTAssertEqual(try ReplicaIdentity.resolve(explicit: nil, dataDir: dir), first, "stable across starts")
        XCTAssertFalse(first.contains("/"))
        XCTAssertEqual(try ReplicaIdentity.resolve(explicit: "web-1", dataDir: dir), "web-1")
        XCTAssertThrowsError(try ReplicaIdentity.resolve(explicit: "a/b", dataDir: dir))
    }

    func testAnUnreachablePostgreSQLIsAClearStartupError() async throws {
        let port = freePort()
        do {
            _ = try await StoreSelection.postgres(url: "postgres://gantry:pw@127.0.0.1:\(port)/gantry").open(logger: .init(label: "t"))
            XCTFail("opened a store on a closed port")
        } catch {
            XCTAssertTrue("\(error)".contains("cannot open PostgreSQL postgres://gantry:***@127.0.0.1"), "\(error)")
            XCTAssertFalse("\(error)".contains(":pw@"), "the password never shows")
        }
    }
}
