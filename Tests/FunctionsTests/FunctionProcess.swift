import Foundation
import FunctionKit
import XCTest

/// Runs a built function executable as a real process: the event on stdin, stdout and stderr captured in files
/// (files, not pipes, so a leftover grandchild holding them open cannot hang the test).
final class FunctionProcess {
    struct NotFound: Error, CustomStringConvertible { let description: String }
    struct TooSlow: Error, CustomStringConvertible { let description: String }

    /// What one invocation printed.
    struct Run {
        let exitCode: Int32
        let stdoutLines: [String]
        let stderr: String
        let messages: [FunctionMessage]
        let elapsed: TimeInterval

        var result: FunctionResult? {
            for message in messages.reversed() { if case .result(let r) = message { return r } }
            return nil
        }
        var checkpoints: [JSONValue] {
            messages.compactMap { if case .checkpoint(let v, _) = $0 { return v } else { return nil } }
        }
    }

    private let process = Process()
    private let exited = DispatchSemaphore(value: 0)
    private let stdoutURL: URL
    private let stderrURL: URL
    private let started = Date()
    let name: String

    /// Starts `name` (e.g. "gantry-fn-wait") with `event` encoded on stdin.
    init(_ name: String, event: FunctionEvent) throws {
        self.name = name
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fn-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        stdoutURL = scratch.appendingPathComponent("stdout")
        stderrURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)

        process.executableURL = try Self.executable(name)
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        input.fileHandleForWriting.write(try encoder.encode(event))
        try input.fileHandleForWriting.close()
    }

    /// Runs `name` to completion (at most `timeout` seconds).
    static func run(_ name: String, event: FunctionEvent, timeout: TimeInterval = 15) throws -> Run {
        try FunctionProcess(name, event: event).finish(within: timeout)
    }

    /// Waits for the process to exit, then parses every stdout line as a protocol message.
    func finish(within seconds: TimeInterval) throws -> Run {
        if exited.wait(timeout: .now() + seconds) == .timedOut {
            process.terminate()
            _ = exited.wait(timeout: .now() + 5)
            throw TooSlow(description: "\(name) did not finish within \(seconds)s")
        }
        let elapsed = Date().timeIntervalSince(started)
        let out = try String(contentsOf: stdoutURL, encoding: .utf8)
        let err = try String(contentsOf: stderrURL, encoding: .utf8)
        try? FileManager.default.removeItem(at: stdoutURL.deletingLastPathComponent())
        let lines = out.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let messages = try lines.map { try FunctionMessage.parse($0) }
        return Run(exitCode: process.terminationStatus, stdoutLines: lines, stderr: err, messages: messages,
                   elapsed: elapsed)
    }

    /// The built executable, next to the running test bundle (SwiftPM puts every product of a build in one
    /// directory, whether that is a dev package's or /work/main's .build/debug). GANTRY_FUNCTIONS_BIN overrides.
    static func executable(_ name: String) throws -> URL {
        var searched: [URL] = []
        if let dir = ProcessInfo.processInfo.environment["GANTRY_FUNCTIONS_BIN"] {
            searched.append(URL(fileURLWithPath: dir))
        }
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            searched.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        searched.append(Bundle(for: FunctionProcess.self).bundleURL.deletingLastPathComponent())
        if let arg0 = CommandLine.arguments.first {
            searched.append(URL(fileURLWithPath: arg0).deletingLastPathComponent())
        }
        for dir in searched {
            let candidate = dir.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw NotFound(description: "executable \(name) not found in \(searched.map(\.path)); "
            + "build it first (swift build --product \(name)) or set GANTRY_FUNCTIONS_BIN")
    }
}

/// Events as the host writes them, with only what a test varies spelled out.
enum TestEvent {
    static func make(stage: String, with: JSONValue, checkpoint: JSONValue? = nil,
                     approvals: [FunctionEvent.ApprovalInfo] = [], rollback: Bool = false,
                     target: String = "/", running: String? = nil, attempt: Int = 1) -> FunctionEvent {
        FunctionEvent(
            invocation: .init(id: "inv-1", key: "dep-1/0", attempt: attempt,
                              deadline: RFC3339.format(Date().addingTimeInterval(60))),
            deployment: .init(id: "dep-1", application: "demo-app", commit: "0123abcd", runningCommit: nil,
                              trigger: .init(kind: "webhook", commitMessage: "change", author: "dev")),
            stage: .init(index: 0, name: stage, with: with, rollback: rollback),
            checkpoint: checkpoint,
            sources: .init(target: target, running: running),
            approvals: approvals)
    }

    static func startedAt(secondsAgo: Double) -> JSONValue {
        .object(["startedAt": .string(RFC3339.format(Date().addingTimeInterval(-secondsAgo)))])
    }
}

/// Fails the test with what went wrong rather than a bare nil.
func date(_ text: String?, file: StaticString = #filePath, line: UInt = #line) throws -> Date {
    try XCTUnwrap(text.flatMap(RFC3339.parse), "not an RFC 3339 time: \(text ?? "nil")", file: file, line: line)
}
