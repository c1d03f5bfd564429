import Foundation
import FunctionKit

/// The stage's checkpoint: when it started and, per check, how many rounds ran and how many of them failed. It is
/// written after every round and before the result, so a re-invocation (a timer, or a crash of the server at any
/// point) runs exactly the rounds after it: none lost, none counted twice.
public struct AnalysisProgress: Codable, Sendable, Equatable {
    /// RFC 3339, as written on the first invocation; every later one computes its times from this text.
    public var startedAt: String
    /// By check id (`metrics[0]`, `http[0]`).
    public var checks: [String: Check]

    public struct Check: Codable, Sendable, Equatable {
        public var rounds: Int
        public var failures: Int
        /// Over before its last round, as a success (PREVIOUS without an earlier deployment).
        public var finished: Bool?
        public init(rounds: Int = 0, failures: Int = 0, finished: Bool? = nil) {
            self.rounds = rounds; self.failures = failures; self.finished = finished
        }
    }

    public init(startedAt: String, checks: [String: Check] = [:]) { self.startedAt = startedAt; self.checks = checks }

    /// The progress in the event's checkpoint, or a new one starting now.
    public static func resume(from checkpoint: JSONValue?, now: Date) throws -> AnalysisProgress {
        guard let checkpoint, checkpoint["startedAt"] != nil else {
            return AnalysisProgress(startedAt: RFC3339.format(now))
        }
        do {
            return try JSONDecoder().decode(AnalysisProgress.self, from: Data(checkpoint.encoded().utf8))
        } catch {
            throw FunctionFailure("the stage's checkpoint is unreadable: \(error)")
        }
    }

    enum CodingKeys: String, CodingKey { case startedAt, checks }

    /// An earlier invocation may have checkpointed its start alone.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        startedAt = try c.decode(String.self, forKey: .startedAt)
        checks = try c.decodeIfPresent([String: Check].self, forKey: .checks) ?? [:]
    }

    public var start: Date {
        get throws {
            guard let date = RFC3339.parse(startedAt) else { throw FunctionFailure("checkpoint has an unreadable startedAt: \(startedAt)") }
            return date
        }
    }

    public var json: JSONValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? JSONValue.decode(String(decoding: encoder.encode(self), as: UTF8.self))) ?? .null
    }
}
