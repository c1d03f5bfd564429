import Foundation

/// How an attempt ended when its function gave no result of its own: a graceful stop of the server ended it
/// (nobody's failure: the re-invocation is not a recovery), or the process running it died (a crash recovery).
public enum Interruption: String, Sendable {
    case shutdown = "Shutdown"
    case crashed = "Crashed"

    /// What the stage's `stop_reason` says about the attempt that was stopped.
    public init(stopReason: String?) { self = stopReason == Self.gracefulStopReason ? .shutdown : .crashed }

    /// The `stop_reason` a graceful stop records before it interrupts an attempt.
    public static let gracefulStopReason = "shutdown"

    /// The invocation's error type.
    public var errorType: String { rawValue }
    /// Whether the re-invocation counts toward the stage's recovery limit.
    public var countsAsRecovery: Bool { self == .crashed }
}

extension AttemptFinish {
    /// When a suspended stage is due again. A callback that arrived before this "suspended" result was applied
    /// left its resume payload already: then the stage is due at once.
    public func resumeAt(callbackAlreadyArrived: Bool) -> Date? {
        waitsForCallback && callbackAlreadyArrived ? now : resumeAt
    }

    /// Suspended until an outside system calls back (the callback token stays valid).
    public var waitsForCallback: Bool { status == .suspended && waitingFor == "callback" }
}
