import ArgumentParser
import Foundation
import GantryAPI

struct Deployments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List deployments, newest first.")
    @OptionGroup var server: ServerOptions
    @Option(help: "Only this application.") var application: String?
    @Option(help: "At most this many.") var limit: Int = 20
    @Flag(help: "Print the API's JSON.") var json = false

    func run() async throws {
        var path = "/api/v1/deployments?limit=\(limit)"
        if let application { path += "&application=\(application.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? application)" }
        let list = try await APIClient(options: server).get(path, as: DeploymentList.self)
        if json { try printJSON(list); return }
        if list.deployments.isEmpty { print("no deployments"); return }
        for d in list.deployments {
            // Hidden rollback stages are shown only once they did something.
            let stages = d.stages.filter { !$0.rollback || !["NOT_STARTED", "SKIPPED"].contains($0.status) }
            let line = stages.map { "\($0.name):\($0.status)" }.joined(separator: " ")
            print("\(d.id)  \(d.application)  \(d.commit.prefix(8))  \(d.status)  \(line)")
        }
    }
}

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a deployment's stage logs.")
    @OptionGroup var server: ServerOptions
    @Argument(help: "Deployment id.") var id: String
    @Flag(name: .shortAndLong, help: "Keep printing new lines until the deployment finishes.") var follow = false
    @Flag(help: "Print the API's JSON.") var json = false

    func run() async throws {
        let client = APIClient(options: server)
        var after: Int64 = 0
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        while true {
            let answer = try await client.get("/api/v1/deployments/\(id)/logs?after=\(after)", as: LogList.self)
            var text = ""
            for l in answer.lines {
                if json {
                    text += String(decoding: try encoder.encode(l), as: UTF8.self) + "\n"
                } else {
                    text += "[stage \(l.stage) #\(l.attempt)] \(l.line)\n"
                }
                after = max(after, l.id)
            }
            let status = answer.status
            let done = !follow || (DeploymentView.finalStatuses.contains(status) && answer.lines.isEmpty)
            if done && follow && !json { text += "deployment \(id): \(status)\n" }
            // Written out per poll, not through print's buffer: followed output is watched through pipes and files
            // too (`| grep`, `> log`), where print would hold it until 4 KiB piled up or the command ended.
            if !text.isEmpty { try FileHandle.standardOutput.write(contentsOf: Data(text.utf8)) }
            if done { return }
            if answer.lines.isEmpty { try await Task.sleep(nanoseconds: 500_000_000) }   // a human is watching: 2 polls/s
        }
    }
}

struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Approve a deployment's WAIT_APPROVAL stage (as the token's name).")
    @OptionGroup var server: ServerOptions
    @Argument(help: "Deployment id.") var id: String
    @Option(help: "Stage index, when several wait.") var stage: Int?

    func run() async throws {
        let answer = try await APIClient(options: server).post("/api/v1/deployments/\(id)/approve",
                                                               ApproveRequest(stage: stage), as: Message.self)
        print(answer.reason.isEmpty ? "approved" : answer.reason)
    }
}

struct Skip: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Skip a deployment's waiting stage (WAIT, WAIT_APPROVAL or ANALYSIS) as the token's name.")
    @OptionGroup var server: ServerOptions
    @Argument(help: "Deployment id.") var id: String
    @Option(help: "Stage index, when several could be skipped.") var stage: Int?

    func run() async throws {
        let answer = try await APIClient(options: server).post("/api/v1/deployments/\(id)/skip", SkipRequest(stage: stage),
                                                               as: Message.self)
        print(answer.reason)
    }
}

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel a deployment (its rollback runs unless --no-rollback).")
    @OptionGroup var server: ServerOptions
    @Argument(help: "Deployment id.") var id: String
    @Flag(help: "Do not run the rollback stages.") var noRollback = false

    func run() async throws {
        _ = try await APIClient(options: server).post("/api/v1/deployments/\(id)/cancel", CancelRequest(rollback: !noRollback),
                                                      as: Message.self)
        print("cancelling \(id)")
    }
}

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Deploy an application's branch head now.")
    @OptionGroup var server: ServerOptions
    @Argument(help: "Application name.") var application: String
    @Option(help: "auto, quick-sync or pipeline.") var strategy: String = "auto"
    @Flag(help: "Print the API's JSON.") var json = false

    func run() async throws {
        let answer = try await APIClient(options: server).post("/api/v1/applications/\(application)/sync",
                                                               SyncRequest(strategy: strategy), as: Message.self)
        if json {
            try printJSON(answer, pretty: false)
        } else {
            print(answer.reason.isEmpty ? "sync queued" : answer.reason)
        }
    }
}
