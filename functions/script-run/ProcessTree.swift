#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A script's process and everything it started, read from /proc (Linux).
///
/// Killing only `bash` on timeout would leave its children (`bash` → `sleep`) running, reparented to init.
/// The script stays in the function's process group (so the host's group kill reaches it), so the function
/// cannot kill "its group" without killing itself: it stops the whole tree first (a stopped process cannot
/// fork), then signals every member it found.
struct ProcessTree {
    /// A process as /proc shows it; `startTime` (clock ticks since boot) tells a reused pid apart.
    struct Member: Hashable {
        let pid: pid_t
        let startTime: UInt64
    }

    private(set) var members: [Member] = []

    /// Stops `root` and all its descendants with SIGSTOP, rescanning until no new descendant appears and every
    /// member has really stopped (SIGSTOP takes effect asynchronously, so a member could still fork meanwhile).
    static func freeze(root: pid_t, timeLimit: Double = 1.0) -> ProcessTree {
        var tree = ProcessTree()
        let giveUp = MonotonicClock.now() + timeLimit
        var known: [pid_t: UInt64] = [:]
        if let info = ProcStat.read(root) {
            known[root] = info.startTime
            kill(root, SIGSTOP)
        }
        while true {
            var added = false
            for info in ProcStat.all() where known[info.pid] == nil && known[info.ppid] != nil && info.alive {
                kill(info.pid, SIGSTOP)
                known[info.pid] = info.startTime
                added = true
            }
            let allStopped = known.allSatisfy { pid, start in
                guard let info = ProcStat.read(pid), info.startTime == start, info.alive else { return true }
                return info.state == "T" || info.state == "t"
            }
            if (!added && allStopped) || MonotonicClock.now() >= giveUp { break }
            MonotonicClock.sleep(0.001)
        }
        tree.members = known.map { Member(pid: $0.key, startTime: $0.value) }
        return tree
    }

    /// Sends `signal` to every member still alive (same pid and start time), then SIGCONT so a stopped process
    /// acts on it.
    func signalAll(_ signal: Int32) {
        let alive = aliveMembers()
        for member in alive { kill(member.pid, signal) }
        for member in alive { kill(member.pid, SIGCONT) }
    }

    /// Members that still run (not exited, not a zombie, pid not reused).
    func aliveMembers() -> [Member] {
        members.filter { member in
            guard let info = ProcStat.read(member.pid) else { return false }
            return info.startTime == member.startTime && info.alive
        }
    }
}

/// Fields of /proc/PID/stat this function needs.
struct ProcStat {
    let pid: pid_t
    let state: Character
    let ppid: pid_t
    let startTime: UInt64

    var alive: Bool { state != "Z" && state != "X" && state != "x" }

    static func read(_ pid: pid_t) -> ProcStat? {
        guard let text = readSmallFile("/proc/\(pid)/stat") else { return nil }
        return parse(text)
    }

    /// "pid (comm) state ppid pgrp ... starttime(22nd field)"; comm may hold spaces and parentheses, so the
    /// fields are counted from the last ')'.
    static func parse(_ text: String) -> ProcStat? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"),
              let pid = pid_t(text[..<open].trimmingSpaces()) else { return nil }
        let rest = text[text.index(after: close)...].split(separator: " ")
        // rest[0] is field 3 (state), so field N is rest[N - 3].
        guard rest.count >= 20, let state = rest[0].first, let ppid = pid_t(rest[1]),
              let start = UInt64(rest[19]) else { return nil }
        return ProcStat(pid: pid, state: state, ppid: ppid, startTime: start)
    }

    /// Every process in /proc that can be read now.
    static func all() -> [ProcStat] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var result: [ProcStat] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let pid = pid_t(name), let info = read(pid) else { continue }
            result.append(info)
        }
        return result
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }
}

private extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
