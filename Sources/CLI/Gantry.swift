import ArgumentParser
import Foundation
import Server

@main
struct Gantry: AsyncParsableCommand {

    static let configuration = CommandConfiguration(
        commandName: "gantry",
        abstract: "GitOps continuous delivery: push webhooks in, pipelines of isolated stage functions out.",
        subcommands: [Serve.self, Demo.self, Deployments.self, Logs.self, Approve.self, Skip.self, Cancel.self, Sync.self,
                      FunctionCommands.self, HashPassword.self, Encrypt.self, PlanPreviewCommand.self, StoreCommands.self])
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (webhooks, API, planner, engine).")
    @Option(help: "Server config file (gantry.yaml). Without it: SQLite under ./.gantry on 127.0.0.1:8080.")
    var config: String?
    @Option(help: "This replica's name among the replicas sharing a PostgreSQL store (default: kept in the data dir).")
    var replicaId: String?

    func run() async throws {
        do {
            try await GantryServer(configPath: config, replicaID: replicaId).run()
        } catch let error as ServerConfig.Invalid {
            throw ValidationError(error.description)
        } catch let error as SecretReference.Unresolved {
            throw ValidationError("secret: \(error.description)")
        }
    }
}
