import Foundation
import FunctionKit
#if canImport(Glibc)
import Glibc
#endif

/// The host's own buffer sizes and tunables around the protocol's caps (`ProtocolCaps`).
enum OutputCaps {
    /// Longer stderr lines are split into several log lines rather than buffered.
    static let stderrLine = 64 << 10
    /// Stderr lines kept for messages and memory-exhaustion detection.
    static let stderrTailLines = 20
    static let stderrTailLineLength = 2048
    /// How long to wait for stdout/stderr EOF after the supervisor has exited (something that escaped the
    /// function's group may still hold the pipes).
    static let drainSeconds = 2.0
    static let maxMalformedWarnings = 100
}

/// The supervisor's final line: the function's rusage from wait4.
struct SupervisorReport: Equatable {
    var wallMs: Int, cpuMs: Int, maxRssKiB: Int
    var exitCode: Int32?, signal: Int32?
}

/// A protocol cap the function went over: its group is killed and the attempt fails with `type`.
struct CapExceeded: Equatable {
    /// "LimitExceeded", or "OutputLimit" for the whole stdout volume.
    var type: String
    /// Names the cap, e.g. "a stdout line exceeded the 1 MiB limit".
    var message: String
    /// The report's `limitHit`.
    var limit: String
}

/// Everything the attempt produced, before it is classified into an outcome.
struct AttemptFacts {
    var report: SupervisorReport?
    var supervisorError: String?
    /// The function's isolation could not be set up; it never ran.
    var isolationError: String?
    var ownWallMs: Int = 0
    var stopReason: StopReason?
    var result: FunctionResult?
    /// A result line was read before any stop was requested: the function finished its work.
    var resultBeforeStop = false
    var capExceeded: CapExceeded?
    var stderrTail: [String] = []
}

/// Runs one started supervisor to its end on the calling thread: feeds stdin, reads stdout (protocol messages,
/// one at a time), stderr (log), the status pipe, the control self-pipe, and enforces deadline, heartbeat and
/// output caps. One poll(2) loop; it wakes only for data or for its next timer.
final class AttemptRunner {
    private let request: InvocationRequest
    private let control: InvocationControl
    private let process: SupervisorProcess
    private let onStarted: (Int32, UInt64) -> Void
    private let onMessage: (FunctionMessage) -> Void
    private let onLog: ([String]) -> Void

    private let startedAt: Double
    private let deadlineAt: Double
    private var facts = AttemptFacts()

    private var group: Int32?
    /// The supervisor reported the function's exit (or died): group F may no longer be signalled.
    private var groupGone = false
    private var killPending = false
    private var killAt: Double?
    private var drainUntil: Double?
    private var lastMessageAt: Double
    private var stdinOffset = 0
    private var stdoutBytes = 0, stderrBytes = 0, outputBytes = 0
    private var malformedLines = 0
    private var sawStdoutLine = false
    private var stdoutLines = LineSplitter(maxLine: ProtocolCaps.stdoutLine, overflow: .failLine)
    private var stderrLines = LineSplitter(maxLine: OutputCaps.stderrLine, overflow: .splitLine)
    private var statusLines = LineSplitter(maxLine: 64 << 10, overflow: .splitLine)
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 1)

    init(request: InvocationRequest, control: InvocationControl, process: SupervisorProcess, startedAt: Double,
         deadlineAt: Double, onStarted: @escaping (Int32, UInt64) -> Void,
         onMessage: @escaping (FunctionMessage) -> Void, onLog: @escaping ([String]) -> Void) {
        self.request = request; self.control = control; self.process = process
        self.startedAt = startedAt; self.deadlineAt = deadlineAt; self.lastMessageAt = startedAt
        self.onStarted = onStarted; self.onMessage = onMessage; self.onLog = onLog
    }

    deinit { buffer.deallocate() }

    func run() -> AttemptFacts {
        if let reason = control.stopReason { beginStop(reason) }
        while process.statusRead >= 0 || process.stdoutRead >= 0 || process.stderrRead >= 0 {
            fireTimers(now: Posix.monotonicNow())
            var fds: [pollfd] = []
            func watch(_ fd: Int32, _ events: Int32) { if fd >= 0 { fds.append(pollfd(fd: fd, events: Int16(events), revents: 0)) } }
            watch(control.wakeRead, POLLIN)
            watch(process.statusRead, POLLIN)
            watch(process.stdoutRead, POLLIN)
            watch(process.stderrRead, POLLIN)
            watch(process.stdinWrite, POLLOUT)
            if process.statusRead < 0 && process.stdoutRead < 0 && process.stderrRead < 0 { break }
            let n = poll(&fds, nfds_t(fds.count), pollTimeout(now: Posix.monotonicNow()))
            if n < 0 && errno != EINTR {
                // Cannot watch the attempt any more: end it rather than leave it running unobserved.
                facts.supervisorError = facts.supervisorError ?? "the host could not poll its pipes: \(Posix.errorText())"
                signalGroup(SIGKILL)
                kill(process.pid, SIGKILL)
                break
            }
            if n <= 0 { continue }
            let ready = Set(fds.filter { $0.revents != 0 }.map(\.fd))
            // Status first: it names group F, which every kill below needs.
            if ready.contains(control.wakeRead) { drainWakePipe() }
            if process.statusRead >= 0, ready.contains(process.statusRead) { readStatus() }
            if process.stdinWrite >= 0, ready.contains(process.stdinWrite) { writeStdin() }
            if process.stdoutRead >= 0, ready.contains(process.stdoutRead) { readStdout() }
            if process.stderrRead >= 0, ready.contains(process.stderrRead) { readStderr() }
        }
        if process.stdinWrite >= 0 { close(process.stdinWrite); process.stdinWrite = -1 }
        if process.statusRead >= 0 { reapSupervisor() }
        facts.ownWallMs = Int((Posix.monotonicNow() - startedAt) * 1000)
        return facts
    }

    // MARK: timers

    private func fireTimers(now: Double) {
        if !groupGone, facts.stopReason == nil {
            if now >= deadlineAt { beginStop(.deadline) }
            else if let hb = request.function.heartbeatTimeout, now - lastMessageAt >= hb { beginStop(.heartbeat) }
        }
        if let at = killAt, now >= at {
            killAt = nil
            signalGroup(SIGKILL)
        }
        if let until = drainUntil, now >= until {
            drainUntil = nil
            closeStdout(flush: true)
            closeStderr(flush: true)
        }
    }

    private func pollTimeout(now: Double) -> Int32 {
        var next: Double?
        func consider(_ t: Double?) { if let t { next = min(next ?? t, t) } }
        if !groupGone, facts.stopReason == nil {
            consider(deadlineAt)
            if let hb = request.function.heartbeatTimeout { consider(lastMessageAt + hb) }
        }
        consider(killAt)
        consider(drainUntil)
        guard let next else { return -1 }
        return Int32(max(0, min(3_600_000, ((next - now) * 1000).rounded(.up))))
    }

    // MARK: stopping

    /// Cancel, deadline, shutdown, heartbeat: tell the function why, then SIGTERM, then SIGKILL after the grace.
    private func beginStop(_ reason: StopReason) {
        guard facts.stopReason == nil, facts.capExceeded == nil, !groupGone else { return }
        facts.stopReason = reason
        facts.resultBeforeStop = facts.result != nil
        writeStopFile(reason)
        if group != nil { sendTerm() }
    }

    private func sendTerm() {
        signalGroup(SIGTERM)
        killAt = Posix.monotonicNow() + request.function.gracePeriod
    }

    /// $GANTRY_CONTROL/stop, written whole (temp file + rename) so the function never reads half of it. Under
    /// isolation the function owns its invocation directory and could put a symlink where `.control` was, so the
    /// file is written through descriptors opened without following links, into a `.control` that is still ours.
    private func writeStopFile(_ reason: StopReason) {
        let body = Array(#"{"reason":"\#(reason.rawValue)"}"#.utf8) + [UInt8(ascii: "\n")]
        let dir = open(request.directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dir >= 0 else { return }
        defer { close(dir) }
        let control = openat(dir, (InvocationDirectory.control(request.directory) as NSString).lastPathComponent,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard control >= 0 else { return }
        defer { close(control) }
        var st = stat()
        guard fstat(control, &st) == 0, st.st_uid == geteuid() else { return }
        unlinkat(control, "stop.tmp", 0)
        let fd = openat(control, "stop.tmp", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let written = body.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        if written == body.count { _ = renameat(control, "stop.tmp", control, "stop") }
    }

    private func exceedCap(_ message: String, limit: String, type: String = "LimitExceeded") {
        guard facts.capExceeded == nil else { return }
        facts.capExceeded = CapExceeded(type: type, message: message, limit: limit)
        closeStdout(flush: false)
        closeStderr(flush: false)
        if group != nil { signalGroup(SIGKILL) } else { killPending = true }
    }

    private func signalGroup(_ signal: Int32) {
        guard let group, !groupGone else { return }
        kill(-group, signal)
    }

    // MARK: pipes

    private func drainWakePipe() {
        while read(control.wakeRead, buffer.baseAddress, buffer.count) > 0 {}
        if let reason = control.stopReason { beginStop(reason) }
    }

    /// Reads what is available now (bounded per wake-up so one busy pipe cannot starve the others).
    /// Returns false at EOF or on error.
    private func readAvailable(_ fd: Int32, _ consume: (UnsafeRawBufferPointer) -> Void) -> Bool {
        for _ in 0..<8 {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n > 0 { consume(UnsafeRawBufferPointer(rebasing: buffer[..<n])); continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return true }
            return false
        }
        return true
    }

    private func writeStdin() {
        let event = request.event
        if stdinOffset < event.count {
            let (n, code) = event.withUnsafeBytes { bytes in
                Posix.writeWithoutSigpipe(process.stdinWrite, bytes.baseAddress! + stdinOffset, bytes.count - stdinOffset)
            }
            if n > 0 { stdinOffset += n }
            if n < 0 && code == EAGAIN { return }
            if n < 0 { stdinOffset = event.count } // EPIPE: the function stopped reading; that is its business
        }
        if stdinOffset >= event.count {
            close(process.stdinWrite)
            process.stdinWrite = -1
        }
    }

    private func readStatus() {
        let open = readAvailable(process.statusRead) { bytes in
            _ = statusLines.feed(bytes) { handleStatusLine(String(decoding: $0, as: UTF8.self)) }
        }
        guard !open else { return }
        statusLines.finish { handleStatusLine(String(decoding: $0, as: UTF8.self)) }
        close(process.statusRead)
        process.statusRead = -1
        // EOF: the supervisor has exited. Without its final report it died: kill the function ourselves.
        if facts.report == nil { signalGroup(SIGKILL) }
        groupGone = true
        killAt = nil
        reapSupervisor()
        drainUntil = Posix.monotonicNow() + OutputCaps.drainSeconds
    }

    private func handleStatusLine(_ line: String) {
        guard let value = try? JSONValue.decode(line) else { return }
        if let started = value["started"]?.number {
            let f = Int32(started)
            group = f
            onStarted(f, UInt64(value["startTicks"]?.number ?? 0))
            if killPending { signalGroup(SIGKILL) } else if facts.stopReason != nil { sendTerm() }
        } else if let error = value["error"]?.string {
            facts.supervisorError = error
        } else if let error = value["isolationError"]?.string {
            facts.isolationError = error
        } else if let wall = value["wallMs"]?.number {
            facts.report = SupervisorReport(
                wallMs: Int(wall), cpuMs: Int(value["cpuMs"]?.number ?? 0), maxRssKiB: Int(value["maxRssKiB"]?.number ?? 0),
                exitCode: value["exitCode"]?.number.map { Int32($0) }, signal: value["signal"]?.number.map { Int32($0) })
            groupGone = true // the supervisor has reaped F and killed its group
            killAt = nil
        }
    }

    private func reapSupervisor() {
        var status: Int32 = 0
        while waitpid(process.pid, &status, 0) < 0 && errno == EINTR {}
    }

    private func readStdout() {
        var overflow = false
        let open = readAvailable(process.stdoutRead) { bytes in
            guard !overflow, facts.capExceeded == nil else { return }
            stdoutBytes += bytes.count
            if stdoutBytes > ProtocolCaps.stdoutTotal {
                overflow = true
                exceedCap("stdout exceeded the 16 MiB limit per attempt", limit: "output", type: "OutputLimit")
                return
            }
            if !stdoutLines.feed(bytes, line: { handleStdoutLine($0) }) {
                overflow = true
                exceedCap("a stdout line exceeded the 1 MiB limit", limit: "stdoutLine")
            }
        }
        if sawStdoutLine {
            sawStdoutLine = false
            lastMessageAt = Posix.monotonicNow()
        }
        if !open { closeStdout(flush: true) }
    }

    private func closeStdout(flush: Bool) {
        guard process.stdoutRead >= 0 else { return }
        if flush, facts.capExceeded == nil {
            // A last line without "\n" that is already over the line cap was refused by the splitter above.
            stdoutLines.finish { handleStdoutLine($0) }
        }
        close(process.stdoutRead)
        process.stdoutRead = -1
    }

    private func handleStdoutLine(_ bytes: UnsafeRawBufferPointer) {
        guard facts.capExceeded == nil else { return }
        var i = 0
        while i < bytes.count && (bytes[i] == 0x20 || bytes[i] == 0x09) { i += 1 }
        guard i < bytes.count else { return } // empty line
        let first = bytes[i]
        sawStdoutLine = true // every stdout message is a heartbeat
        // Cheap check first: a flood of non-JSON lines must not cost a JSON parse (or a String) each.
        guard first == UInt8(ascii: "{") else {
            warnMalformed { "malformed protocol line (not a JSON object): \(Self.preview(bytes))" }
            return
        }
        let line = String(decoding: bytes, as: UTF8.self)
        if facts.result != nil {
            onLog(["warning: ignored stdout line after the result: \(line.prefix(200))"])
            return
        }
        do {
            let message = try FunctionMessage.parse(line)
            if case .result(let r) = message { facts.result = r; return }
            guard withinCaps(message) else { return }
            onMessage(message)
        } catch {
            warnMalformed { String(describing: error) }
        }
    }

    /// Checkpoint and output sizes (docs/function-protocol.md, "Size caps"): an oversized one is never handed to the caller (which would
    /// store it); the function is killed instead.
    private func withinCaps(_ message: FunctionMessage) -> Bool {
        switch message {
        case .checkpoint(let value, _):
            let size = value.encoded().utf8.count
            guard size <= ProtocolCaps.checkpoint else {
                exceedCap("a checkpoint of \(size) bytes exceeded the 256 KiB limit", limit: "checkpoint")
                return false
            }
        case .output(let values):
            outputBytes += JSONValue.object(values.mapValues { .string($0) }).encoded().utf8.count
            guard outputBytes <= ProtocolCaps.outputs else {
                exceedCap("outputs exceeded the 64 KiB limit per attempt (\(outputBytes) bytes in all)", limit: "outputs")
                return false
            }
        case .heartbeat, .result:
            break
        }
        return true
    }

    /// Malformed lines are logged as warnings, the first `maxMalformedWarnings` of them: a function printing
    /// garbage must not turn into millions of log lines.
    private func warnMalformed(_ text: () -> String) {
        malformedLines += 1
        if malformedLines <= OutputCaps.maxMalformedWarnings {
            onLog(["warning: \(text())"])
        } else if malformedLines == OutputCaps.maxMalformedWarnings + 1 {
            onLog(["warning: more malformed stdout lines follow; they are not logged"])
        }
    }

    private static func preview(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes.prefix(200), as: UTF8.self)
    }

    private func readStderr() {
        var batch: [String] = []
        var overflow = false
        let open = readAvailable(process.stderrRead) { bytes in
            guard !overflow, facts.capExceeded == nil else { return }
            let room = ProtocolCaps.stderr - stderrBytes
            stderrBytes += bytes.count
            guard bytes.count > room else {
                _ = stderrLines.feed(bytes) { batch.append(String(decoding: $0, as: UTF8.self)) }
                return
            }
            // Deliver exactly the first 10 MiB (the cut line included), then say that the rest is gone.
            overflow = true
            _ = stderrLines.feed(UnsafeRawBufferPointer(rebasing: bytes[..<room])) { batch.append(String(decoding: $0, as: UTF8.self)) }
            stderrLines.finish { batch.append(String(decoding: $0, as: UTF8.self)) }
            batch.append(ProtocolCaps.stderrTruncatedMarker)
        }
        deliverLog(batch)
        if overflow { exceedCap("stderr exceeded the 10 MiB limit per attempt", limit: "stderr") }
        if !open { closeStderr(flush: true) }
    }

    private func closeStderr(flush: Bool) {
        guard process.stderrRead >= 0 else { return }
        if flush, facts.capExceeded == nil {
            var last: [String] = []
            stderrLines.finish { last.append(String(decoding: $0, as: UTF8.self)) }
            deliverLog(last)
        }
        close(process.stderrRead)
        process.stderrRead = -1
    }

    private func deliverLog(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        for line in lines where !line.isEmpty {
            facts.stderrTail.append(String(line.prefix(OutputCaps.stderrTailLineLength)))
        }
        if facts.stderrTail.count > OutputCaps.stderrTailLines {
            facts.stderrTail.removeFirst(facts.stderrTail.count - OutputCaps.stderrTailLines)
        }
        onLog(lines)
    }
}
