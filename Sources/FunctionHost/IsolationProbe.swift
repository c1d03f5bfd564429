import Foundation
import FunctionKit
#if canImport(Glibc)
import Glibc
#endif

/// The server's start-up check that isolation works here: the real supervisor, with the real options, sets up a
/// probe invocation (namespace, hidden paths, a kept directory, the user switch) and enters its directory as the
/// function user, without running any program. What fails here would fail every invocation.
public enum IsolationProbe {
    public struct Findings: Sendable, Equatable {
        /// Nil when functions can be isolated; else why not, in the supervisor's words.
        public var problem: String?
        /// Whether `network: none` can be applied (an empty network namespace can be made).
        public var networkNone: Bool
        public var wallMs: Int
    }

    /// `scratch` is a directory under a hidden path (the data dir) where the probe's invocation directory is made
    /// and removed again.
    public static func run(supervisorPath: String, isolation: FunctionIsolation, scratch: String) -> Findings {
        let started = Posix.monotonicNow()
        let problem = attempt(supervisorPath: supervisorPath, isolation: isolation, scratch: scratch, network: .host)
        let networkNone = problem == nil
            && attempt(supervisorPath: supervisorPath, isolation: isolation, scratch: scratch, network: .none) == nil
        return Findings(problem: problem, networkNone: networkNone,
                        wallMs: Int((Posix.monotonicNow() - started) * 1000))
    }

    private static func attempt(supervisorPath: String, isolation: FunctionIsolation, scratch: String,
                                network: FunctionNetwork) -> String? {
        let dir = (scratch as NSString).appendingPathComponent("isolation-probe-\(UUID().uuidString.prefix(8).lowercased())")
        defer { FunctionHost.removeInvocationDirectory(dir) }
        if let problem = InvocationDirectory.prepare(dir) { return problem }
        if let problem = InvocationDirectory.handOver(dir, to: isolation.user) { return problem }
        var launch = SupervisorLaunch(supervisorPath: supervisorPath, argv: [], directory: dir, limits: FunctionLimits(),
                                      environment: ["PATH=/usr/bin:/bin"])
        launch.isolation = isolation.launch(directory: dir, cache: nil, functionFolder: dir, program: dir, readOnly: [],
                                            network: network, memoryBytes: nil)
        launch.probe = true
        let process: SupervisorProcess
        do { process = try SupervisorProcess.spawn(launch) } catch { return String(describing: error) }
        defer { process.closeAll() }
        close(process.stdinWrite)
        process.stdinWrite = -1
        var lines = LineSplitter(maxLine: 64 << 10, overflow: .splitLine)
        var problem: String?
        var exitCode: Int?
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
        defer { buffer.deallocate() }
        let giveUp = Posix.monotonicNow() + 10
        // Only the status pipe matters; the child's stderr says the same in fewer words, and stays small.
        while process.statusRead >= 0, Posix.monotonicNow() < giveUp {
            var p = pollfd(fd: process.statusRead, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 1000) <= 0 { continue }
            let n = read(process.statusRead, buffer.baseAddress, buffer.count)
            if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            let handle: (UnsafeRawBufferPointer) -> Void = { line in
                guard let value = try? JSONValue.decode(String(decoding: line, as: UTF8.self)) else { return }
                if let text = value["isolationError"]?.string ?? value["error"]?.string { problem = problem ?? text }
                if value["wallMs"] != nil { exitCode = value["exitCode"]?.number.map { Int($0) } ?? -1 }
            }
            if n <= 0 {
                lines.finish(line: handle)
                close(process.statusRead)
                process.statusRead = -1
                break
            }
            _ = lines.feed(UnsafeRawBufferPointer(rebasing: buffer[..<n]), line: handle)
        }
        if process.statusRead >= 0 { kill(process.pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(process.pid, &status, 0) < 0 && errno == EINTR {}
        if let problem { return problem }
        guard let exitCode else { return "the supervisor ended without a report" }
        return exitCode == 0 ? nil : "the probe exited with status \(exitCode)"
    }
}
