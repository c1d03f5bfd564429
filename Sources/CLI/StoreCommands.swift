import ArgumentParser
import Foundation
import Logging
import Server

struct StoreCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store", abstract: "Work on a Gantry store directly.",
                                                    subcommands: [StoreMigrate.self])
}

struct StoreMigrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a SQLite store into an empty PostgreSQL store and verify row counts and checksums.",
        discussion: "Stop the server on the SQLite store first. The target must be empty: nothing is ever overwritten.")
    @Option(help: "The SQLite store: sqlite:PATH (e.g. sqlite:./.gantry/gantry.sqlite).") var from: String
    @Option(help: "The PostgreSQL store: postgres://user@host:5432/db, env:NAME or file:PATH.") var to: String

    func run() async throws {
        var logger = Logger(label: "gantry.migrate")
        logger.logLevel = .warning
        do {
            let reports = try await StoreMigration.run(from: from, to: to, logger: logger)
            for r in reports { print("\(r.table): \(r.rows) rows, sha256 \(r.checksum) verified") }
            print("migrated \(reports.map(\.rows).reduce(0, +)) rows in \(reports.count) tables")
        } catch {
            throw ValidationError("store migrate: \(error)")
        }
    }
}
