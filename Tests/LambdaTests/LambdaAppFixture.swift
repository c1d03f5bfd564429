import Foundation
import FunctionKit

/// An app directory as the planner exports it (LambdaApp config, function manifest, code folder), and events
/// for it as the engine writes them.
struct LambdaAppFixture {
    let dir: String
    let functionName: String
    let platform: JSONValue

    init(roleARN: String, platform: JSONValue, name: String = "fn-\(UUID().uuidString.prefix(8).lowercased())",
         manifestExtra: String = "") throws {
        dir = NSTemporaryDirectory() + "lambda-app-\(UUID().uuidString.prefix(8))"
        functionName = name
        self.platform = platform
        try FileManager.default.createDirectory(atPath: dir + "/src", withIntermediateDirectories: true)
        try """
            apiVersion: pipecd.dev/v1beta1
            kind: LambdaApp
            spec:
              name: \(name)-app
              input:
                functionManifestFile: function.yaml
            """.write(toFile: dir + "/app.pipecd.yaml", atomically: true, encoding: .utf8)
        try """
            apiVersion: pipecd.dev/v1beta1
            kind: LambdaFunction
            spec:
              name: \(name)
              role: \(roleARN)
              runtime: python3.12
              handler: app.handler
              source:
                path: src
              memory: 128
              timeout: 10
              environments:
                STAGE: test
              tags:
                team: gantry
            \(manifestExtra)
            """.write(toFile: dir + "/function.yaml", atomically: true, encoding: .utf8)
        try setCode("v1")
    }

    func setCode(_ version: String) throws {
        try "def handler(event, context):\n    return {'version': '\(version)'}\n"
            .write(toFile: dir + "/src/app.py", atomically: true, encoding: .utf8)
    }

    func event(_ stage: String, deployment: String, index: Int = 0, with: JSONValue = .object([:]), attempt: Int = 1,
               checkpoint: JSONValue? = nil, platform: JSONValue? = nil) -> FunctionEvent {
        FunctionEvent(
            invocation: .init(id: "\(deployment)-\(index)-\(attempt)", key: "\(deployment)-\(index)", attempt: attempt,
                              deadline: RFC3339.format(Date().addingTimeInterval(120))),
            deployment: .init(id: deployment, application: "\(functionName)-app", commit: "0123456789abcdef",
                              runningCommit: nil, trigger: .init(kind: "webhook", commitMessage: "change", author: "dev")),
            stage: .init(index: index, name: stage, with: with, rollback: stage == "ROLLBACK"),
            checkpoint: checkpoint,
            sources: .init(target: dir, running: nil),
            platform: platform ?? self.platform)
    }
}
