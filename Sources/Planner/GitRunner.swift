import CoreMetrics
import Foundation
import FunctionKit

/// A git command that failed, with what git said: the planner logs it and leaves the trigger pending.
public struct GitError: Error, CustomStringConvertible, Sendable {
    public let command: String
    public let status: Int32
    public let stderr: String
    public let timedOut: Bool

    /// A remote's credentials never reach the error: it is logged, and stored in trigger notes.
    init(command: String, status: Int32, stderr: String, timedOut: Bool) {
        self.command = URLCredentials.redact(command)
        self.status = status
        self.stderr = URLCredentials.redact(stderr)
        self.timedOut = timedOut
    }

    /// What git said, on one line (or the command when it said nothing).
    var stderrSummary: String {
        let said = stderr.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        return said.isEmpty ? description : said
    }

    public var description: String {
        // One line, so it reads well in a log line or a trigger note.
        let said = stderr.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        if timedOut { return "\(command) timed out" + (said.isEmpty ? "" : ": \(said)") }
        return "\(command) failed (exit \(status))" + (said.isEmpty ? "" : ": \(said)")
    }
}

struct GitResult: Sendable {
    var status: Int32
    var stdout: Data
    var stderr: String
    var timedOut: Bool
    var text: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs the `git` command line with Foundation's `Process`. Blocking work (spawning, waiting, reading the
/// output) happens on GCD threads, never on the Swift concurrency executors. Output goes to temporary files
/// rather than pipes: a pipe can fill up and stall git, and a helper git spawned (ssh, remote-https) can hold
/// a pipe open after git itself was killed on timeout.
struct GitRunner: Sendable {
    let executable: URL
    let environment: [String: String]
    /// Counts every git process by subcommand (`gantry_git_commands_total`): what planning a push costs in
    /// processes should not grow with the repository.
    let metrics: any MetricsFactory

    init(metrics: any MetricsFactory = MetricsSystem.factory) {
        self.metrics = metrics
        executable = GitRunner.findGit()
        var env = ProcessInfo.processInfo.environment
        env["GIT_TERMINAL_PROMPT"] = "0"          // never wait for a password nobody will type
        env["GIT_ASKPASS"] = env["GIT_ASKPASS"] ?? "/bin/false"
        env["LC_ALL"] = "C"                       // stable, English messages in errors
        env["GIT_OPTIONAL_LOCKS"] = "0"
        environment = env
    }

    private static func findGit() -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/git"
            if FileManager.default.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
        }
        return URL(fileURLWithPath: "/usr/bin/git")
    }

    /// Runs git and returns whatever happened; a non-zero exit is not an error here.
    func run(_ arguments: [String], extraEnvironment: [String: String] = [:], stdin: Data? = nil,
             timeout: Double = 60) async throws -> GitResult {
        let executable = self.executable
        let subcommand = arguments.first { !$0.hasPrefix("-") } ?? "git"
        Counter(label: "gantry_git_commands_total", dimensions: [("command", subcommand)], factory: metrics).increment()
        var environment = self.environment
        for (k, v) in extraEnvironment { environment[k] = v }
        let env = environment
        return try await withCheckedThrowingContinuation { (cont: CheckedContinuation<GitResult, Error>) in
            DispatchQueue.global(qos: .utility).async {
                cont.resume(with: GitRunner.runBlocking(executable: executable, arguments: arguments,
                                                       environment: env, stdin: stdin, timeout: timeout))
            }
        }
    }

    /// Runs git and throws a `GitError` naming the command and git's stderr unless it exits 0.
    @discardableResult
    func check(_ arguments: [String], extraEnvironment: [String: String] = [:], stdin: Data? = nil,
               timeout: Double = 60) async throws -> GitResult {
        let result = try await run(arguments, extraEnvironment: extraEnvironment, stdin: stdin, timeout: timeout)
        guard result.status == 0, !result.timedOut else {
            throw GitError(command: GitRunner.describe(arguments), status: result.status, stderr: result.stderr,
                           timedOut: result.timedOut)
        }
        return result
    }

    static func describe(_ arguments: [String]) -> String {
        // Drop `--git-dir=...`: it names our cache, not what the user needs to know.
        (["git"] + arguments.filter { !$0.hasPrefix("--git-dir=") }).joined(separator: " ")
    }

    /// Foundation on Linux starts the child in a process group of its own; then the whole group is
    /// signalled, else git alone.
    private static func signalGroup(of pid: pid_t, _ signal: Int32) {
        if getpgid(pid) == pid { kill(-pid, signal) } else { kill(pid, signal) }
    }

    private static func runBlocking(executable: URL, arguments: [String], environment: [String: String],
                                    stdin: Data?, timeout: Double) -> Result<GitResult, Error> {
        let fm = FileManager.default
        let tmp = fm.temporaryDirectory
        let outURL = tmp.appendingPathComponent("gantry-git-\(UUID().uuidString).out")
        let errURL = tmp.appendingPathComponent("gantry-git-\(UUID().uuidString).err")
        let inURL = tmp.appendingPathComponent("gantry-git-\(UUID().uuidString).in")
        defer { try? fm.removeItem(at: outURL); try? fm.removeItem(at: errURL); try? fm.removeItem(at: inURL) }
        // Input from a file as well: git may write before it has read everything, and nothing here reads meanwhile.
        var input = FileHandle.nullDevice
        if let stdin {
            guard fm.createFile(atPath: inURL.path, contents: stdin), let handle = try? FileHandle(forReadingFrom: inURL) else {
                return .failure(GitError(command: describe(arguments), status: -1,
                                         stderr: "cannot create temporary files in \(tmp.path)", timedOut: false))
            }
            input = handle
        }
        defer { if stdin != nil { try? input.close() } }
        guard fm.createFile(atPath: outURL.path, contents: nil), fm.createFile(atPath: errURL.path, contents: nil),
              let outHandle = try? FileHandle(forWritingTo: outURL), let errHandle = try? FileHandle(forWritingTo: errURL)
        else {
            return .failure(GitError(command: describe(arguments), status: -1,
                                     stderr: "cannot create temporary files in \(tmp.path)", timedOut: false))
        }
        defer { try? outHandle.close(); try? errHandle.close() }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        process.standardInput = input
        process.standardOutput = outHandle
        process.standardError = errHandle
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            // GCD threads block most signals and a spawned child inherits that mask: without this, git
            // would ignore the SIGTERM of a timeout and never clean up its lock files.
            var unblock = sigset_t(), previous = sigset_t()
            sigemptyset(&unblock)
            sigaddset(&unblock, SIGTERM)
            pthread_sigmask(SIG_UNBLOCK, &unblock, &previous)
            defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
            try process.run()
        } catch {
            return .failure(GitError(command: describe(arguments), status: -1,
                                     stderr: "cannot start \(executable.path): \(error)", timedOut: false))
        }
        var timedOut = false
        if exited.wait(timeout: .now() + max(0.1, timeout)) == .timedOut {
            timedOut = true
            // git waits for its transport (ssh, remote-https, ...) before dying: signal them all.
            signalGroup(of: process.processIdentifier, SIGTERM)
            if exited.wait(timeout: .now() + 2) == .timedOut {
                signalGroup(of: process.processIdentifier, SIGKILL)
                exited.wait()
            }
        }
        let stdout = (try? Data(contentsOf: outURL)) ?? Data()
        let stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        return .success(GitResult(status: process.terminationStatus, stdout: stdout,
                                  stderr: timedOut ? "after \(Int(timeout))s. \(stderr)" : stderr, timedOut: timedOut))
    }
}
