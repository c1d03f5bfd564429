import ArgumentParser
import Foundation
import FunctionHost
import FunctionKit
import Server

/// `gantry fn ...`: work with stage functions without a server.
struct FunctionCommands: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fn", abstract: "Run stage functions locally.", subcommands: [FunctionInvoke.self])
}

/// One invocation through the engine's own host code (FunctionHost.run: supervisor, limits, caps, report), so
/// what works here works in a pipeline. Messages go to stdout as they arrive, the function's stderr to stderr,
/// and the last stdout line is the outcome: {"result": ..., "errorType": ..., "report": {...}}.
struct FunctionInvoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Invoke one function with an event file and print its messages and attempt report.",
        discussion: """
            NAME is a function name or a stage name it serves. Missing event fields are filled in as the engine \
            would: protocol, invocation.id/key/attempt, invocation.deadline (now + the function's timeout) and \
            function {name, version}. Exit status 0 when the result is succeeded, suspended, skipped or exited.
            """)

    @Argument(help: "Function name, or a stage name (e.g. WAIT).") var name: String
    @Option(help: "Event JSON file (docs/function-protocol.md).") var event: String
    @Option(help: "JSON file whose value becomes the event's checkpoint.") var checkpoint: String?
    @Option(help: "Server config (gantry.yaml) whose functions.paths are searched after the built-in functions.")
    var config: String?

    func run() throws {
        let registry = try loadRegistry()
        guard let spec = find(in: registry) else {
            for problem in registry.problems { printError("warning: function: \(problem)") }
            let known = registry.functions.map { "\($0.name) (\($0.stages.joined(separator: ", ")))" }
            throw ValidationError("no function named \(name) or serving stage \(name); known: \(known.joined(separator: "; "))")
        }
        let (eventData, deadline, environment) = try buildEvent(for: spec)
        let directory = NSTemporaryDirectory() + "gantry-fn-invoke-\(UUID().uuidString)"
        defer { FunctionHost.removeInvocationDirectory(directory) }
        let request = InvocationRequest(id: UUID().uuidString, function: spec, event: eventData, directory: directory,
                                        environment: environment, deadline: deadline)
        let control = InvocationControl()
        let signals = Self.stopOnSignals(control)
        defer { signals.forEach { $0.cancel() } }

        let host = FunctionHost(supervisorPath: Locations.supervisor, registry: registry)
        let outcome = host.run(request, control: control, onStarted: { _, _ in },
                               onMessage: { writeLine(FileHandle.standardOutput, $0.line()) },
                               onLog: { lines in lines.forEach { writeLine(FileHandle.standardError, $0) } })
        writeLine(FileHandle.standardOutput, Self.summary(outcome))
        if outcome.result.status == .failed { throw ExitCode(1) }
    }

    /// The built-in functions, then the config's `functions.paths`, as `gantry serve` loads them.
    private func loadRegistry() throws -> FunctionRegistry {
        var paths: [String] = []
        if let builtin = Locations.builtinFunctions() { paths.append(builtin) }
        if let config {
            do { paths += try ServerConfig.load(path: config).0.functions?.paths ?? [] } catch let error as ServerConfig.Invalid {
                throw ValidationError(error.description)
            }
        }
        guard !paths.isEmpty else {
            throw ValidationError("built-in functions not found (set GANTRY_BUILTIN_FUNCTIONS) and no --config given")
        }
        return FunctionRegistry(paths: paths, executableSearchPaths: [Locations.executableDirectory])
    }

    private func find(in registry: FunctionRegistry) -> FunctionSpec? {
        if let exact = registry.functions.first(where: { $0.name == name }) { return exact }
        let kind = (try? readJSON(event))?["platform"]?["kind"]?.string
        return registry.function(forStage: name, platformKind: kind)
            ?? registry.functions.first { $0.stages.contains(name) }
    }

    /// The event bytes with the engine's fields filled in, its deadline, and the GANTRY_* variables the engine
    /// would set for it.
    private func buildEvent(for spec: FunctionSpec) throws -> (Data, Date, [String: String]) {
        guard case .object(var body) = try readJSON(event) else {
            throw ValidationError("\(event): the event must be a JSON object")
        }
        if let checkpoint { body["checkpoint"] = try readJSON(checkpoint) }
        if body["protocol"] == nil { body["protocol"] = .number(1) }
        var invocation = body["invocation"]?.object ?? [:]
        let id = invocation["id"]?.string ?? "local-\(UUID().uuidString.lowercased())"
        invocation["id"] = invocation["id"] ?? .string(id)
        invocation["key"] = invocation["key"] ?? .string(id)
        invocation["attempt"] = invocation["attempt"] ?? .number(1)
        let deadline: Date
        if let text = invocation["deadline"]?.string {
            guard let parsed = RFC3339.parse(text) else {
                throw ValidationError("\(event): invocation.deadline \"\(text)\" is not an RFC 3339 time")
            }
            deadline = parsed
        } else {
            deadline = Date().addingTimeInterval(spec.timeout)
            invocation["deadline"] = .string(RFC3339.format(deadline))
        }
        body["invocation"] = .object(invocation)
        if body["function"] == nil {
            body["function"] = .object(["name": .string(spec.name), "version": .string(spec.version)])
        }
        var environment: [String: String] = [:]
        environment["GANTRY_DEPLOYMENT_ID"] = body["deployment"]?["id"]?.string
        environment["GANTRY_APPLICATION"] = body["deployment"]?["application"]?.string
        environment["GANTRY_STAGE"] = body["stage"]?["name"]?.string
        environment["GANTRY_ATTEMPT"] = invocation["attempt"]?.number.map { String(Int($0)) }
        return (Data(JSONValue.object(body).encoded().utf8), deadline, environment)
    }

    private func readJSON(_ path: String) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        do { return try JSONValue.decode(String(decoding: data, as: UTF8.self)) } catch {
            throw ValidationError("\(path) is not valid JSON: \(error)")
        }
    }

    /// ^C (or SIGTERM) cancels the function the way the engine does: stop file, SIGTERM, SIGKILL after its grace.
    private static func stopOnSignals(_ control: InvocationControl) -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { control.stop(.cancel) }
            source.resume()
            return source
        }
    }

    /// {"result": ..., "errorType": ..., "report": {...}} (stopReason too when a stop ended the attempt).
    static func summary(_ outcome: AttemptOutcome) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func json<T: Encodable>(_ value: T) -> String { (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null" }
        var line = #"{"result":\#(json(outcome.result)),"errorType":\#(json(outcome.errorType)),"report":\#(json(outcome.report))"#
        if let stop = outcome.stopReason { line += #","stopReason":"\#(stop.rawValue)""# }
        return line + "}"
    }
}

/// One line, written straight to the descriptor so it shows at once even when stdout is a pipe.
private func writeLine(_ handle: FileHandle, _ text: String) {
    handle.write(Data((text + "\n").utf8))
}

private func printError(_ text: String) { writeLine(FileHandle.standardError, text) }
