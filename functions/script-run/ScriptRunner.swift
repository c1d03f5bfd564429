#if canImport(Glibc)
import Glibc
#endif
import FunctionKit

/// How a script ended.
enum ScriptOutcome: Equatable {
    case exited(Int32)
    case killedBySignal(Int32)
    case timedOut
}

/// Runs one script with `/bin/bash -e -c`, bounded by a timeout.
///
/// posix_spawn, not fork: nothing but exec may follow a fork in a Swift process. The script keeps the
/// function's process group, so the host's kill of that group on deadline or cancel reaches it too.
/// Its stdout and stderr both go to the function's stderr (the stage log): the function's stdout carries
/// protocol messages and a script must never be able to forge one.
struct ScriptRunner {
    var script: String
    var directory: String
    /// "KEY=value" entries, the script's whole environment.
    var environment: [String]
    var timeout: Double
    /// Time between SIGTERM and SIGKILL once the timeout has passed.
    var termGrace: Double = 5

    static let shell = "/bin/bash"

    func run() throws -> ScriptOutcome {
        // SIGCHLD stays blocked while the script runs so sigtimedwait can sleep until the child exits (or the
        // next deadline) without polling; the child gets an empty mask back through posix_spawn.
        var childExit = sigset_t()
        sigemptyset(&childExit)
        sigaddset(&childExit, SIGCHLD)
        var previousMask = sigset_t()
        sigprocmask(SIG_BLOCK, &childExit, &previousMask)
        defer { sigprocmask(SIG_SETMASK, &previousMask, nil) }

        let pid = try spawn()
        if let status = try waitForExit(pid, until: MonotonicClock.now() + timeout, wakeOn: childExit) {
            return Self.outcome(status)
        }
        try stopAfterTimeout(pid, wakeOn: childExit)
        return .timedOut
    }

    /// SIGTERM to the script and everything it started; SIGKILL to whatever still runs `termGrace` later.
    private func stopAfterTimeout(_ pid: pid_t, wakeOn childExit: sigset_t) throws {
        let tree = ProcessTree.freeze(root: pid)
        tree.signalAll(SIGTERM)
        let graceEnd = MonotonicClock.now() + termGrace
        var rootReaped = false
        while true {
            if !rootReaped { rootReaped = try waitForExit(pid, until: 0, wakeOn: childExit) != nil }
            if rootReaped && tree.aliveMembers().isEmpty { return }
            let left = graceEnd - MonotonicClock.now()
            if left <= 0 { break }
            // Grandchildren are not ours to wait for, so look again every 20 ms; the script's own exit wakes
            // this at once through SIGCHLD.
            var slice = MonotonicClock.timespecFor(min(left, 0.02))
            var exitSet = childExit
            _ = sigtimedwait(&exitSet, nil, &slice)
        }
        FunctionIO.log("script still running \(DurationText.format(termGrace)) after SIGTERM; sending SIGKILL")
        // A member that ignored SIGTERM may have started new processes since: freeze again from each survivor.
        for member in tree.aliveMembers() { ProcessTree.freeze(root: member.pid).signalAll(SIGKILL) }
        if !rootReaped { _ = try waitForExit(pid, until: .infinity, wakeOn: childExit) }
    }

    /// The raw wait status once `pid` has exited, or nil when `deadline` (monotonic seconds) comes first.
    private func waitForExit(_ pid: pid_t, until deadline: Double, wakeOn childExit: sigset_t) throws -> Int32? {
        while true {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return status }
            if r < 0 && errno != EINTR {
                throw FunctionFailure("lost track of the script process \(pid): \(String(cString: strerror(errno)))")
            }
            let left = deadline - MonotonicClock.now()
            if left <= 0 { return nil }
            // Woken by SIGCHLD; the 1 s cap only bounds the delay should a SIGCHLD ever be missed.
            var slice = MonotonicClock.timespecFor(min(left, 1.0))
            var exitSet = childExit
            _ = sigtimedwait(&exitSet, nil, &slice)
        }
    }

    private func spawn() throws -> pid_t {
        // Glibc's posix_spawn_file_actions_addchdir_np is not visible to Swift; the function itself moves
        // there instead (it is single-threaded and runs nothing else).
        guard chdir(directory) == 0 else {
            throw FunctionFailure("cannot enter \(directory): \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, 2, 1)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        // The host may have started us with SIGPIPE ignored (servers do); a script expects the defaults.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var pid: pid_t = 0
        let rc = withCStrings([Self.shell, "-e", "-c", script]) { argv in
            withCStrings(environment) { envp in
                posix_spawn(&pid, Self.shell, &actions, &attributes, argv, envp)
            }
        }
        guard rc == 0 else {
            throw FunctionFailure("cannot start \(Self.shell) in \(directory): \(String(cString: strerror(rc)))")
        }
        return pid
    }

    static func outcome(_ status: Int32) -> ScriptOutcome {
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .killedBySignal(signal)
    }
}

/// A NULL-terminated array of C strings, alive for the duration of `body`.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}
