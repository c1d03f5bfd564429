#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Small readers for what a stage function needs from its event, with errors that name the field.
extension FunctionEvent {
    /// When this stage first started: the `startedAt` an earlier attempt checkpointed, or now.
    ///
    /// On the first invocation the start is checkpointed before this returns, so a server crash later in the
    /// stage resumes from the same start: a wait or approval timeout never grows by the downtime.
    /// The returned date is the checkpointed text parsed back, so every attempt computes the same instants.
    public func checkpointedStartTime() throws -> Date {
        if let saved = checkpoint?["startedAt"] {
            guard let text = saved.string, let date = RFC3339.parse(text) else {
                throw FunctionFailure("checkpoint has an unreadable startedAt: \(saved.encoded())")
            }
            return date
        }
        let text = RFC3339.format(Date())
        FunctionIO.checkpoint(.object(["startedAt": .string(text)]))
        guard let date = RFC3339.parse(text) else { throw FunctionFailure("cannot read back the time \(text)") }
        return date
    }

    /// Seconds in the duration `with.<key>` (e.g. "10s", "1h30m"); `defaultSeconds` when absent or null.
    public func withDuration(_ key: String, default defaultSeconds: Double? = nil) throws -> Double {
        guard let value = stage.with[key], !value.isNull else {
            if let d = defaultSeconds { return d }
            throw FunctionFailure("\(stage.name) needs with.\(key) (a duration such as 10s or 5m)")
        }
        guard let text = value.string else {
            throw FunctionFailure("with.\(key) must be a duration such as 10s or 5m, not \(value.encoded())")
        }
        do { return try DurationText.seconds(text) } catch {
            throw FunctionFailure("with.\(key): \(error)")
        }
    }

    /// `with.<key>` as text; nil when absent or null.
    public func withString(_ key: String) throws -> String? {
        guard let value = stage.with[key], !value.isNull else { return nil }
        guard case .string(let s) = value else {
            throw FunctionFailure("with.\(key) must be text, not \(value.encoded())")
        }
        return s
    }
}
