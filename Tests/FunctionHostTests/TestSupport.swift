import Foundation
import FunctionKit
import XCTest
@testable import FunctionHost
#if canImport(Glibc)
import Glibc
#endif

/// Finds the built `gantry-supervise`: beside the running test bundle (swift test puts every product of the
/// package in one directory), else under the package's .build (either this package or a dev package that
/// links these sources), else $GANTRY_SUPERVISOR.
enum SupervisorBinary {
    static let path: String? = {
        let fm = FileManager.default
        func executable(_ p: String) -> Bool { fm.isExecutableFile(atPath: p) }
        if let explicit = ProcessInfo.processInfo.environment["GANTRY_SUPERVISOR"], executable(explicit) { return explicit }
        var candidates: [String] = []
        let running = (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = (running as NSString).deletingLastPathComponent
        for _ in 0..<4 { // the .xctest may be a bundle directory on some platforms
            candidates.append((dir as NSString).appendingPathComponent("gantry-supervise"))
            dir = (dir as NSString).deletingLastPathComponent
        }
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<4 {
            for sub in [".build/debug", ".build/release", ".build/x86_64-unknown-linux-gnu/debug",
                        ".build/aarch64-unknown-linux-gnu/debug"] {
                candidates.append(root.appendingPathComponent(sub).appendingPathComponent("gantry-supervise").path)
            }
            root.deleteLastPathComponent()
        }
        return candidates.first(where: executable)
    }()

    static func require() throws -> String {
        guard let path else {
            throw XCTSkip("gantry-supervise is not built (run swift build first or set GANTRY_SUPERVISOR)")
        }
        return path
    }
}

/// A temporary root with function folders written by the tests.
final class FunctionSandbox {
    let root: String
    let functionsDir: String

    init() throws {
        root = NSTemporaryDirectory() + "gantry-fnhost-\(UUID().uuidString)"
        functionsDir = root + "/functions"
        try FileManager.default.createDirectory(atPath: functionsDir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Writes functions/<name>/function.yaml and, if given, an executable run.sh (bash).
    @discardableResult
    func addFunction(_ name: String, yaml: String, script: String? = nil) throws -> String {
        let folder = functionsDir + "/" + name
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try yaml.write(toFile: folder + "/function.yaml", atomically: true, encoding: .utf8)
        if let script {
            let path = folder + "/run.sh"
            try ("#!/bin/bash\n" + script + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }
        return folder
    }

    /// A function named `name` serving stage `name.uppercased()` that runs `script` with bash.
    func scriptFunction(_ name: String, script: String, extraYAML: String = "") throws -> FunctionSpec {
        try addFunction(name, yaml: """
            name: \(name)
            stages: [\(name.uppercased())]
            command: [./run.sh]
            \(extraYAML)
            """, script: script)
        let registry = FunctionRegistry(paths: [functionsDir], executableSearchPaths: [])
        guard let spec = registry.functions.first(where: { $0.name == name }) else {
            throw NSError(domain: "test", code: 1, userInfo: [NSLocalizedDescriptionKey: "not loaded: \(registry.problems)"])
        }
        return spec
    }

    func host(environment: [String: String] = ["PATH": "/usr/local/bin:/usr/bin:/bin"]) throws -> FunctionHost {
        FunctionHost(supervisorPath: try SupervisorBinary.require(),
                     registry: FunctionRegistry(paths: [functionsDir], executableSearchPaths: []),
                     serverEnvironment: environment)
    }

    func request(_ spec: FunctionSpec, event: String = #"{"protocol":1}"#, seconds: Double = 20,
                 environment: [String: String] = [:]) -> InvocationRequest {
        InvocationRequest(id: UUID().uuidString, function: spec, event: Data(event.utf8),
                          directory: root + "/invocations/" + UUID().uuidString, environment: environment,
                          deadline: Date().addingTimeInterval(seconds))
    }
}

/// Collects callbacks (from the host's thread) for assertions.
final class Recorder: @unchecked Sendable {
    private let lock = NSLock()
    private var _messages: [FunctionMessage] = []
    private var _logs: [String] = []
    private var _logCount = 0
    private var _logBytes = 0
    private var _lastLog: String?
    private var _started: (Int32, UInt64)?
    /// Keep at most this many log lines (flood tests only count).
    let keepLogs: Int

    init(keepLogs: Int = 10_000) { self.keepLogs = keepLogs }

    var messages: [FunctionMessage] { lock.withLock { _messages } }
    var logs: [String] { lock.withLock { _logs } }
    var logCount: Int { lock.withLock { _logCount } }
    /// UTF-8 bytes of every line delivered, plus one per line (its newline).
    var logBytes: Int { lock.withLock { _logBytes } }
    var lastLog: String? { lock.withLock { _lastLog } }
    var started: (group: Int32, ticks: UInt64)? { lock.withLock { _started.map { ($0.0, $0.1) } } }

    func onStarted(_ group: Int32, _ ticks: UInt64) { lock.withLock { _started = (group, ticks) } }
    func onMessage(_ m: FunctionMessage) { lock.withLock { _messages.append(m) } }
    func onLog(_ lines: [String]) {
        lock.withLock {
            _logCount += lines.count
            _logBytes += lines.reduce(0) { $0 + $1.utf8.count + 1 }
            if let last = lines.last { _lastLog = last }
            let room = max(0, keepLogs - _logs.count)
            _logs += lines.prefix(room)
        }
    }
}

extension FunctionHost {
    /// `run` with a recorder.
    func run(_ request: InvocationRequest, control: InvocationControl = InvocationControl(),
             recorder: Recorder) -> AttemptOutcome {
        run(request, control: control, onStarted: recorder.onStarted, onMessage: recorder.onMessage,
            onLog: recorder.onLog)
    }
}

/// Waits for `condition` with a deadline (checking every 20 ms); returns whether it became true.
func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// Live processes of process group `group`.
func groupMembers(_ group: Int32) -> [Int32] { ProcStat.livingMembers(ofGroup: group) }

func isAlive(_ pid: Int32) -> Bool {
    guard let e = ProcStat.read(pid) else { return false }
    return e.state != "Z" && e.state != "X"
}

/// Peak resident memory of this test process, in KiB.
func peakRSSKiB() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}

/// posix_spawn `argv` with the given fds placed at fixed numbers (all others close on exec), optionally
/// as the leader of a new process group.
func spawnProcess(_ argv: [String], fds: [Int32: Int32] = [:], newGroup: Bool = false) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var moved: [Int32] = []
    defer { moved.forEach { close($0) } }
    for (target, source) in fds.sorted(by: { $0.key < $1.key }) {
        let high = fcntl(source, F_DUPFD_CLOEXEC, 20)
        moved.append(high)
        posix_spawn_file_actions_adddup2(&actions, high, target)
    }
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    if newGroup {
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
    }
    let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { cArgs.forEach { free($0) } }
    let env: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/local/bin:/usr/bin:/bin"), nil]
    defer { env.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv[0], &actions, &attr, cArgs, env)
    guard rc == 0 else { throw NSError(domain: "spawn", code: Int(rc)) }
    return pid
}

/// Reads one line from a (possibly non-blocking) fd, waiting at most `seconds`.
func readLine(_ fd: Int32, seconds: Double) -> String? {
    var bytes: [UInt8] = []
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 100) >= 0 else { return nil }
        if p.revents == 0 { continue }
        var byte: UInt8 = 0
        let n = read(fd, &byte, 1)
        if n == 1 {
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        } else if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) {
            return nil
        }
    }
    return nil
}

func reap(_ pid: pid_t) {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
}
