import ArgumentParser
import Foundation
import GantryAPI

/// `gantry plan-preview`: what a branch or pull request would deploy if merged, asked of the server's planner.
struct PlanPreviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan-preview",
        abstract: "Show which applications a branch or pull request touches and how each would deploy (nothing is deployed).")
    @OptionGroup var server: ServerOptions
    @Option(name: .customLong("repo"), help: "Repository id from the server config.") var repository: String
    @Option(help: "The change: a branch, refs/pull/N/head, or a commit id.") var head: String
    @Option(help: "What it would merge into (default: the repository's configured branch).") var base: String?
    @Flag(help: "Print the answer as JSON.") var json = false

    func run() async throws {
        let preview = try await APIClient(options: server).post("/api/v1/plan-preview",
                                            PlanPreviewRequest(repository: repository, head: head, base: base),
                                            as: PlanPreviewView.self)
        if json { try printJSON(preview) } else { print(preview.markdown) }
    }
}
