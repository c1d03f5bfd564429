import Foundation

/// Lets another thread stop a running attempt. `stop` wakes the host's poll loop through a self-pipe, so the
/// host never polls for it.
public final class InvocationControl: @unchecked Sendable {
    // @unchecked: `requested` is guarded by `lock`; the pipe fds never change after init.
    private let lock = NSLock()
    private var requested: StopReason?
    /// Read end, polled by the host; write end, written by `stop`. Both O_CLOEXEC | O_NONBLOCK.
    let wakeRead: Int32
    private let wakeWrite: Int32

    public init() {
        var fds: [Int32] = [-1, -1]
        if Posix.pipeCloexec(&fds, O_NONBLOCK) != 0 { fds = [-1, -1] }
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    deinit {
        if wakeRead >= 0 { close(wakeRead) }
        if wakeWrite >= 0 { close(wakeWrite) }
    }

    /// Asks the host to stop the function: it writes `$GANTRY_CONTROL/stop` {"reason": ...}, sends SIGTERM to the
    /// function's group and SIGKILL after its grace period. The first reason given is the one that counts.
    public func stop(_ reason: StopReason) {
        lock.lock()
        let first = requested == nil
        if first { requested = reason }
        lock.unlock()
        if first, wakeWrite >= 0 {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1) // a full pipe already means "woken"
        }
    }

    /// The reason given to `stop`, if any.
    public var stopReason: StopReason? {
        lock.lock(); defer { lock.unlock() }
        return requested
    }
}
