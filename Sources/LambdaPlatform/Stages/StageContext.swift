import Foundation
import FunctionKit

/// Everything a Lambda stage works with: the event, the platform's client, the app's input and manifest.
struct StageContext {
    let event: FunctionEvent
    let lambda: LambdaAPI
    let input: AppInput
    let manifest: FunctionManifest
    /// The app's directory the manifest was read from (target commit; running commit as ROLLBACK's fallback).
    let appDirectory: String
    let deadline: Date

    var deploymentID: String { event.deployment.id }
    var functionName: String { manifest.name }
    var alias: String { input.aliasName }
    /// Written into the description of the version this stage publishes, so a re-invoked attempt finds the
    /// version an interrupted one published instead of publishing another.
    var publishMarker: String { "[\(event.invocation.key)]" }

    static func log(_ line: String) { FunctionIO.log(line) }

    /// Reads the app's input and manifest from `directory` and connects to the event's platform.
    init(event: FunctionEvent, directory: String, environment: [String: String]) throws {
        self.event = event
        appDirectory = directory
        input = try AppInput.read(directory: directory, application: event.deployment.application)
        manifest = try FunctionManifest.load(path: directory + "/" + input.functionManifestFile,
                                             displayName: input.functionManifestFile)
        deadline = RFC3339.parse(event.invocation.deadline) ?? Date().addingTimeInterval(600)
        let settings = try PlatformSettings(platform: event.platform, environment: environment)
        lambda = try settings.lambda(environment: environment, deadline: deadline, log: { FunctionIO.log($0) })
    }
}
