import Foundation
import FunctionKit

/// The PREVIOUS strategy's memory: when the last successful ANALYSIS of each application started (PipeCD keeps the
/// same in its analysis result store). It lives in the function's cache (`$GANTRY_CACHE`), which may be emptied:
/// without a record the strategy acts as on a first deployment and passes.
public struct PreviousAnalyses: Sendable {
    let directory: String?

    public init(environment: [String: String]) {
        directory = environment["GANTRY_CACHE"].flatMap { $0.isEmpty ? nil : $0 + "/previous-analyses" }
    }

    private struct Record: Codable { var startedAt: String }

    public func lastStart(of application: String) -> Date? {
        guard let path = path(application), let data = FileManager.default.contents(atPath: path),
              let record = try? JSONDecoder().decode(Record.self, from: data) else { return nil }
        return RFC3339.parse(record.startedAt)
    }

    /// Best effort: a cache that cannot be written only makes the next PREVIOUS check pass as a first one.
    public func record(_ startedAt: String, of application: String) {
        guard let directory, let path = path(application),
              let data = try? JSONEncoder().encode(Record(startedAt: startedAt)) else { return }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try? data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    private func path(_ application: String) -> String? {
        let safe = String(application.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "_" })
        return directory.map { $0 + "/" + safe + ".json" }
    }
}
