import Foundation
import PostgresStore
import SQLiteStore
import Store
import XCTest

/// The two store implementations, for behaviour tests written once and run on both (so they cannot drift).
/// `handles` opens several independent handles on one fresh store, as several replicas would hold.
package enum StoreBackend: String, CaseIterable {
    case sqlite, postgres

    package func open(handles: Int = 1) async throws -> [any Store] {
        switch self {
        case .sqlite:
            let path = try makeTempDir() + "/gantry.sqlite"
            return try (0..<handles).map { _ in try SQLiteStore(path: path) }
        case .postgres:
            let url = try PostgresCluster.get().makeDatabase()
            var stores: [any Store] = []
            for _ in 0..<handles { stores.append(try await PostgresStore(url: url)) }
            return stores
        }
    }

    package func open() async throws -> any Store { try await open(handles: 1)[0] }
}

/// Runs `body` once per back end; a failure names the back end it happened on.
package func forEachStore(file: StaticString = #filePath, line: UInt = #line,
                  _ body: (StoreBackend) async throws -> Void) async throws {
    for backend in StoreBackend.allCases {
        do { try await body(backend) } catch {
            XCTFail("[\(backend.rawValue)] \(String(reflecting: error))", file: file, line: line)
            throw error
        }
    }
}
