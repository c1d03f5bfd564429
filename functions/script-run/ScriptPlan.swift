#if canImport(Glibc)
import Glibc
#endif
import FunctionKit

/// What SCRIPT_RUN (or SCRIPT_RUN_ROLLBACK) will run, where, with which environment, read from the event
/// with PipeCD's field names: `with.run`, `with.env`, `with.timeout`, `with.onRollback`.
struct ScriptPlan {
    let script: String
    let directory: String
    let environment: [String]
    let timeout: Double
    let rollback: Bool

    static let defaultTimeout = 6.0 * 3600

    /// nil when this is a rollback and the stage declared no `onRollback` script.
    init?(_ event: FunctionEvent) throws {
        rollback = event.stage.rollback || event.stage.name == "SCRIPT_RUN_ROLLBACK"
        let text = try event.withString(rollback ? "onRollback" : "run") ?? ""
        if text.allSatisfy(\.isWhitespace) {
            if rollback { return nil }
            throw FunctionFailure("\(event.stage.name) needs with.run (the script to run)")
        }
        guard !text.contains("\0") else { throw FunctionFailure("the script contains a NUL character") }
        script = text
        timeout = try event.withDuration("timeout", default: Self.defaultTimeout)
        guard timeout > 0 else { throw FunctionFailure("with.timeout must be longer than 0s") }
        directory = try Self.directory(event, rollback: rollback)
        environment = try Self.environment(event, directory: directory, rollback: rollback)
    }

    /// The app's directory at the target commit; a rollback runs in the running commit's copy when there is one.
    private static func directory(_ event: FunctionEvent, rollback: Bool) throws -> String {
        if rollback, let running = event.sources.running, isDirectory(running) { return running }
        let target = event.sources.target
        guard isDirectory(target) else { throw FunctionFailure("sources.target \(target) is not a directory") }
        return target
    }

    /// The function's own environment, then `with.env`, then PipeCD's SR_* variables (which a stage cannot fake).
    private static func environment(_ event: FunctionEvent, directory: String, rollback: Bool) throws -> [String] {
        var names: [String] = []
        var values: [String: String] = [:]
        func set(_ name: String, _ value: String) {
            if values.updateValue(value, forKey: name) == nil { names.append(name) }
        }
        var entry = environ
        while let pointer = entry.pointee {
            let pair = String(cString: pointer)
            if let eq = pair.firstIndex(of: "=") { set(String(pair[..<eq]), String(pair[pair.index(after: eq)...])) }
            entry += 1
        }
        switch event.stage.with["env"] {
        case nil, .null?: break
        case .object(let vars)?:
            for name in vars.keys.sorted() {
                guard !name.isEmpty, !name.contains("="), !name.contains("\0") else {
                    throw FunctionFailure("with.env has an invalid variable name \"\(name)\"")
                }
                guard let value = vars[name]?.string, !value.contains("\0") else {
                    throw FunctionFailure("with.env.\(name) must be text, not \(vars[name]?.encoded() ?? "null")")
                }
                set(name, value)
            }
        case let other?:
            throw FunctionFailure("with.env must be a map of names to values, not \(other.encoded())")
        }
        set("PWD", directory)
        for (name, value) in ScriptContext(event.deployment, rollback: rollback).variables() { set(name, value) }
        return names.map { "\($0)=\(values[$0]!)" }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
