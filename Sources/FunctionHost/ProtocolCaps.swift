/// The size caps of the function protocol (docs/function-protocol.md, "Size caps"), in bytes, in one place. Exceeding one fails the attempt
/// with type `LimitExceeded` (the whole stdout volume: `OutputLimit`) and kills the function's group: a function
/// that writes too much must never cost the server memory or a stuck stage.
public enum ProtocolCaps {
    /// The event written to stdin; a larger one fails before anything is spawned.
    public static let event = 1 << 20
    /// One checkpoint value, measured as its encoded JSON (what the store keeps).
    public static let checkpoint = 256 << 10
    /// All `output` messages of one attempt together, measured as their encoded JSON objects.
    public static let outputs = 64 << 10
    /// One stdout line.
    public static let stdoutLine = 1 << 20
    /// Stderr per attempt; the log then ends with `stderrTruncatedMarker`.
    public static let stderr = 10 << 20
    /// Everything a function writes to stdout in one attempt (`OutputLimit`, not `LimitExceeded`).
    public static let stdoutTotal = 16 << 20

    /// The last log line of an attempt whose stderr reached `stderr`.
    public static let stderrTruncatedMarker = "[gantry: stderr truncated at 10 MiB]"
}
