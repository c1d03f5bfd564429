import BuiltProducts
import Foundation
import FunctionKit
import XCTest

/// One real invocation of the built `gantry-fn-lambda`: the event on stdin, an environment as small as the
/// function host gives (PATH, HOME, LANG and the names function.yaml passes), stdout parsed as protocol lines.
final class LambdaFunctionRun {
    let process = Process()
    let outPath: String, errPath: String
    private let exited = DispatchSemaphore(value: 0)

    init(event: FunctionEvent, environment: [String: String]) throws {
        let dir = NSTemporaryDirectory() + "fn-lambda-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        outPath = dir + "/stdout"; errPath = dir + "/stderr"
        for path in [outPath, errPath] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        process.executableURL = URL(fileURLWithPath: try BuiltProducts.executable("gantry-fn-lambda"))
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": dir, "LANG": "C.UTF-8"].merging(environment) { $1 }
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        stdin.fileHandleForWriting.write(try JSONEncoder().encode(event))
        try stdin.fileHandleForWriting.close()
    }

    /// Runs to the end and returns what it said.
    static func run(_ event: FunctionEvent, environment: [String: String], timeout: Double = 60) throws -> Outcome {
        try LambdaFunctionRun(event: event, environment: environment).wait(timeout: timeout)
    }

    struct Outcome {
        let messages: [FunctionMessage]
        let log: String
        let exitCode: Int32
        var result: FunctionResult? {
            messages.reversed().lazy.compactMap { if case .result(let r) = $0 { return r } else { return nil } }.first
        }
        var lastCheckpoint: JSONValue? {
            messages.reversed().lazy.compactMap { if case .checkpoint(let c, _) = $0 { return c } else { return nil } }.first
        }
        var outputs: [String: String] {
            messages.reduce(into: [:]) { if case .output(let o) = $1 { $0.merge(o) { $1 } } }
        }
    }

    func wait(timeout: Double) throws -> Outcome {
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            kill9()
            XCTFail("gantry-fn-lambda did not finish within \(timeout)s: \(read(errPath))")
        }
        return try outcome()
    }

    /// SIGKILL, as the supervisor does when the server dies.
    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        _ = exited.wait(timeout: .now() + 10)
    }

    func outcome() throws -> Outcome {
        let lines = read(outPath).split(separator: "\n").map(String.init)
        return Outcome(messages: try lines.map(FunctionMessage.parse), log: read(errPath),
                       exitCode: process.isRunning ? -1 : process.terminationStatus)
    }

    private func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
}
