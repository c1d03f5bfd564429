import ArgumentParser
import Foundation

struct Deployments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List deployments, newest first.")
    @OptionGroup var server: ServerOptions
    @Option(help: "Only this application.") var application: String?
    @Option(help: "At most this many.") var limit: Int = 20
    @Flag(help: "Print the API's JSON.") var json = false

    func run() async throws {
        var path = "/api/v1/deployments?limit=\(limit)"
        if let application { path += "&application=\(application.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? application)" }
        let client = APIClient(options: server)
        if json { print(String(decoding: try await client.raw(path), as: UTF8.self)); return }
        let list = try await client.call("GET", path)["deployments"] as? [[String: Any]] ?? []
        if list.isEmpty { print("no deployments"); return }
        for d in list {
            // Hidden rollback stages are shown only once they did something.
            let stages = (d["stages"] as? [[String: Any]] ?? []).filter {
                !($0["rollback"] as? Bool ?? false) || !["NOT_STARTED", "SKIPPED"].contains($0["status"] as? String ?? "")
            }
            let line = stages.map { "\($0["name"] ?? "?"):\($0["status"] ?? "?")" }.joined(separator: " ")
            print("\(d["id"] ?? "")  \(d["application"] ?? "")  \((d["commit"] as? String ?? "").prefix(8))  \(d["status"] ?? "")  \(line)")
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
        let finished: Set<String> = ["SUCCESS", "FAILURE", "CANCELLED"]
        while true {
            let answer = try await client.call("GET", "/api/v1/deployments/\(id)/logs?after=\(after)")
            let lines = answer["lines"] as? [[String: Any]] ?? []
            var text = ""
            for l in lines {
                if json {
                    let data = try JSONSerialization.data(withJSONObject: l, options: [.sortedKeys, .withoutEscapingSlashes])
                    text += String(decoding: data, as: UTF8.self) + "\n"
                } else {
                    text += "[stage \(l["stage"] ?? "?") #\(l["attempt"] ?? "?")] \(l["line"] ?? "")\n"
                }
                after = max(after, (l["id"] as? NSNumber)?.int64Value ?? after)
            }
            let status = answer["status"] as? String ?? ""
            let done = !follow || (finished.contains(status) && lines.isEmpty)
            if done && follow && !json { text += "deployment \(id): \(status)\n" }
            // Written out per poll, not through print's buffer: followed output is watched through pipes and files
            // too (`| grep`, `> log`), where print would hold it until 4 KiB piled up or the command ended.
            if !text.isEmpty { try FileHandle.standardOutput.write(contentsOf: Data(text.utf8)) }
            if done { return }
            if lines.isEmpty { try await Task.sleep(nanoseconds: 500_000_000) }   // a human is watching: 2 polls/s
        }
    }
}

struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Approve a deployment's WAIT_APPROVAL stage (as the token's name).")
    @OptionGroup var server: ServerOptions
    @Argument(help: "Deployment id.") var id: String
    @Option(help: "Stage index, when several wait.") var stage: Int?

    func run() async throws {
        var body: [String: Any] = [:]
        if let stage { body["stage"] = stage }
        let answer = try await APIClient(options: server).call("POST", "/api/v1/deployments/\(id)/approve", body: body)
        print(answer["reason"] as? String ?? "approved")
    }
}

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel a deployment (its rollback runs unless --no-rollback).")
    @OptionGroup var server: ServerOptions
    @Argument(help: "Deployment id.") var id: String
    @Flag(help: "Do not run the rollback stages.") var noRollback = false

    func run() async throws {
        _ = try await APIClient(options: server).call("POST", "/api/v1/deployments/\(id)/cancel", body: ["rollback": !noRollback])
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
        let answer = try await APIClient(options: server).call("POST", "/api/v1/applications/\(application)/sync",
                                                               body: ["strategy": strategy])
        if json {
            let data = try JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(answer["reason"] as? String ?? "sync queued")
        }
    }
}
