import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the supervisor is asked to run.
struct SupervisorLaunch {
    var supervisorPath: String
    /// Absolute path of the program, then its arguments.
    var argv: [String]
    var directory: String
    var limits: FunctionLimits
    /// The function's exact environment, "NAME=value". It is the supervisor's own environment (not its argv),
    /// so values never show in the world-readable /proc/PID/cmdline.
    var environment: [String]
    /// Namespaces, hidden and kept paths, the function's user; nil: the function runs as the server does.
    var isolation: SupervisorIsolation? = nil
    /// Set everything up and enter `directory`, then exit 0 without running `argv` (the start-up check).
    var probe = false
}

/// A started `gantry-supervise` and the server's ends of its pipes. Used by one thread only.
final class SupervisorProcess {
    let pid: pid_t
    /// The function's stdin (non-blocking); -1 once closed.
    var stdinWrite: Int32
    var stdoutRead: Int32
    var stderrRead: Int32
    /// Lines from the supervisor: {"started":F,...}, then the final report (or {"error":...}).
    var statusRead: Int32
    /// Held open while we live: its EOF tells the supervisor that the server died.
    var lifelineWrite: Int32

    /// Fixed fd numbers in the supervisor; see Sources/Supervisor/main.c.
    static let lifelineFd: Int32 = 3
    static let statusFd: Int32 = 4

    private init(pid: pid_t, fds: [Int32]) {
        self.pid = pid
        stdinWrite = fds[0]; stdoutRead = fds[1]; stderrRead = fds[2]; statusRead = fds[3]; lifelineWrite = fds[4]
    }

    deinit { closeAll() }

    func closeAll() {
        for fd in [stdinWrite, stdoutRead, stderrRead, statusRead, lifelineWrite] where fd >= 0 { close(fd) }
        stdinWrite = -1; stdoutRead = -1; stderrRead = -1; statusRead = -1; lifelineWrite = -1
    }

    static func arguments(for launch: SupervisorLaunch) -> [String] {
        var args = [launch.supervisorPath, "--lifeline", String(lifelineFd), "--status", String(statusFd),
                    "--dir", launch.directory]
        if let m = launch.limits.memoryBytes { args += ["--mem", String(m)] }
        if let c = launch.limits.cpuSeconds { args += ["--cpu", String(c)] }
        if let n = launch.limits.openFiles { args += ["--nofile", String(n)] }
        if let isolation = launch.isolation { args += isolation.arguments }
        if launch.probe { args.append("--probe") }
        return args + ["--"] + launch.argv
    }

    /// posix_spawn (no code of ours runs between fork and exec) with only fds 0-4 given to the supervisor,
    /// in a process group of its own (so a terminal's ^C or the server's group signals do not reach it), with
    /// an empty signal mask and default signal dispositions.
    static func spawn(_ launch: SupervisorLaunch) throws -> SupervisorProcess {
        var opened: Set<Int32> = []
        func makePipe() throws -> (read: Int32, write: Int32) {
            let p = try Posix.pipe()
            opened.formUnion([p.read, p.write])
            return p
        }
        func moveAbove(_ fd: Int32) throws -> Int32 {
            let moved = try Posix.moveAbove(fd)
            opened.remove(fd); opened.insert(moved)
            return moved
        }
        do {
            let stdinPipe = try makePipe(), stdoutPipe = try makePipe(), stderrPipe = try makePipe()
            let lifeline = try makePipe(), status = try makePipe()
            // Ours, kept: stdin write, stdout/stderr/status read, lifeline write.
            let ours = [stdinPipe.write, stdoutPipe.read, stderrPipe.read, status.read, lifeline.write]
            // Theirs, moved above 4 so the dup2 actions below cannot clobber one another.
            let theirs = try [stdinPipe.read, stdoutPipe.write, stderrPipe.write, lifeline.read, status.write]
                .map(moveAbove)
            for fd in [ours[0], ours[1], ours[2], ours[3]] { Posix.setNonBlocking(fd) }

            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            for (target, source) in theirs.enumerated() {
                posix_spawn_file_actions_adddup2(&actions, source, Int32(target)) // 0,1,2, lifeline 3, status 4
            }

            var attr = posix_spawnattr_t()
            posix_spawnattr_init(&attr)
            defer { posix_spawnattr_destroy(&attr) }
            var noSignals = sigset_t()
            sigemptyset(&noSignals)
            var allSignals = sigset_t()
            sigfillset(&allSignals)
            sigdelset(&allSignals, SIGKILL)
            sigdelset(&allSignals, SIGSTOP)
            posix_spawnattr_setsigmask(&attr, &noSignals)
            posix_spawnattr_setsigdefault(&attr, &allSignals)
            posix_spawnattr_setpgroup(&attr, 0)
            posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

            let argv = arguments(for: launch).map { strdup($0) } + [nil]
            let envp = launch.environment.map { strdup($0) } + [nil]
            defer { (argv + envp).forEach { free($0) } }
            var pid: pid_t = 0
            let rc = posix_spawn(&pid, launch.supervisorPath, &actions, &attr, argv, envp)
            for fd in theirs { close(fd); opened.remove(fd) }
            guard rc == 0 else {
                throw HostError(type: "Crashed", message: "cannot start supervisor \(launch.supervisorPath): \(Posix.errorText(rc))")
            }
            return SupervisorProcess(pid: pid, fds: ours)
        } catch {
            for fd in opened { close(fd) }
            throw error
        }
    }
}
