import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Small, thread-safe wrappers over the system calls the host uses. Every fd the host creates is O_CLOEXEC, so
/// nothing leaks into processes spawned by other parts of the server.
enum Posix {
    /// A pipe, both ends O_CLOEXEC.
    static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipeCloexec(&fds, 0) == 0 else { throw HostError(type: "Crashed", message: "pipe2 failed: \(errorText())") }
        return (fds[0], fds[1])
    }

    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    /// glibc's pipe2, which the Glibc module does not export (it is behind _GNU_SOURCE). Creating both ends with
    /// O_CLOEXEC in one call matters: another thread may posix_spawn between a pipe() and an fcntl(), and a
    /// leaked lifeline write end in some long-lived child would keep a supervisor from noticing our death.
    private static let pipe2Function: Pipe2? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "pipe2") else { return nil }
        return unsafeBitCast(symbol, to: Pipe2.self)
    }()

    /// pipe2(fds, O_CLOEXEC | extraFlags).
    static func pipeCloexec(_ fds: UnsafeMutablePointer<Int32>, _ extraFlags: Int32) -> Int32 {
        guard let pipe2Function else { errno = ENOSYS; return -1 }
        return pipe2Function(fds, O_CLOEXEC | extraFlags)
    }

    /// Moves `fd` to a number >= `minimum` (closing the original), keeping O_CLOEXEC, so that posix_spawn's
    /// dup2 actions onto 0...4 can never overwrite a source fd that happens to sit there.
    static func moveAbove(_ fd: Int32, minimum: Int32 = 10) throws -> Int32 {
        let moved = fcntl(fd, F_DUPFD_CLOEXEC, minimum)
        guard moved >= 0 else { throw HostError(type: "Crashed", message: "fcntl(F_DUPFD_CLOEXEC) failed: \(errorText())") }
        close(fd)
        return moved
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    static func errorText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    /// Seconds on the monotonic clock (deadlines must not move with wall-clock changes).
    static func monotonicNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// write(2) with SIGPIPE blocked on this thread and any resulting SIGPIPE consumed, so a function that
    /// exits without reading stdin cannot kill the server (and the process-wide disposition stays untouched).
    static func writeWithoutSigpipe(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> (Int, Int32) {
        var pipeOnly = sigset_t()
        sigemptyset(&pipeOnly)
        sigaddset(&pipeOnly, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeOnly, &previous)
        let n = write(fd, buffer, count)
        let code = errno
        if n < 0, code == EPIPE, sigismember(&previous, SIGPIPE) == 0 {
            var zero = timespec(tv_sec: 0, tv_nsec: 0)
            _ = sigtimedwait(&pipeOnly, nil, &zero)
        }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        return (n, code)
    }

    private static let signalNames: [Int32: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
        SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
        SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
        SIGCHLD: "SIGCHLD", SIGCONT: "SIGCONT", SIGSTOP: "SIGSTOP", SIGTSTP: "SIGTSTP", SIGTTIN: "SIGTTIN",
        SIGTTOU: "SIGTTOU", SIGURG: "SIGURG", SIGXCPU: "SIGXCPU", SIGXFSZ: "SIGXFSZ", SIGVTALRM: "SIGVTALRM",
        SIGPROF: "SIGPROF", SIGWINCH: "SIGWINCH", SIGIO: "SIGIO", SIGPWR: "SIGPWR", SIGSYS: "SIGSYS",
    ]

    static func signalName(_ signal: Int32) -> String { signalNames[signal] ?? "signal \(signal)" }
}

/// What /proc says about a process, for recognising a process group after a server restart.
enum ProcStat {
    struct Entry { var state: Character; var processGroup: Int32; var startTicks: UInt64 }

    /// Fields 3 (state), 5 (pgrp) and 22 (starttime) of /proc/PID/stat; nil if there is no such process.
    static func read(_ pid: Int32) -> Entry? {
        guard pid > 0, let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        // The command name (field 2) may contain spaces and ')': everything after the LAST ')' is fields 3...
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count > 19, let state = fields[0].first, let group = Int32(fields[2]),
              let start = UInt64(fields[19]) else { return nil }
        return Entry(state: state, processGroup: group, startTicks: start)
    }

    /// Live (non-zombie) processes whose process group is `group`.
    static func livingMembers(ofGroup group: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let e = read(pid) else { return false }
            return e.processGroup == group && e.state != "Z" && e.state != "X"
        }
    }
}
