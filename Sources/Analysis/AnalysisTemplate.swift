import Foundation
import FunctionKit
import RepositoryYAML
import Yams

/// The repository's `kind: AnalysisTemplate` (PipeCD): named metrics and HTTP checks that stages use with
/// `template: {name, appArgs}`. It lives in `.gantry/` or `.pipe/` (PipeCD's folder), in the app's directory or at
/// the repository's root; the first file there with that kind is the template.
public struct AnalysisTemplate: Sendable {
    public var metrics: [String: MetricsSettings]
    public var http: [String: HTTPSettings]
    /// Where it was read from, for messages.
    public var file: String

    public init(metrics: [String: MetricsSettings], http: [String: HTTPSettings], file: String) {
        self.metrics = metrics; self.http = http; self.file = file
    }

    static let folders = [".gantry", ".pipe"]

    /// The template in the first of `roots` (the app's directory, then the repository's shared folders) that has
    /// one; nil when none does. A file that says it is an AnalysisTemplate but cannot be read is an error.
    public static func find(in roots: [String]) throws -> AnalysisTemplate? {
        let fm = FileManager.default
        for root in roots {
            for folder in folders {
                let dir = root + "/" + folder
                // analysis-template.yaml first: the name the docs give, then the others PipeCD would also look at.
                let files = ((try? fm.contentsOfDirectory(atPath: dir)) ?? [])
                    .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
                    .sorted { ($0.hasPrefix("analysis-template.") ? 0 : 1, $0) < ($1.hasPrefix("analysis-template.") ? 0 : 1, $1) }
                for file in files {
                    let path = dir + "/" + file
                    guard let data = fm.contents(atPath: path) else { continue }
                    if let template = try read(String(decoding: data, as: UTF8.self), file: folder + "/" + file) {
                        return template
                    }
                }
            }
        }
        return nil
    }

    /// The template in `text`, or nil when the file is of another kind.
    static func read(_ text: String, file: String) throws -> AnalysisTemplate? {
        struct Head: Decodable { var kind: String? }
        struct Document: Decodable {
            struct Spec: Decodable {
                var metrics: [String: MetricsSettings]?
                var http: [String: HTTPSettings]?
                var https: [String: HTTPSettings]?
            }
            var spec: Spec?
        }
        do {
            try RepositoryYAML.check(text)
            guard (try? YAMLDecoder().decode(Head.self, from: text))?.kind == "AnalysisTemplate" else { return nil }
            let spec = try YAMLDecoder().decode(Document.self, from: text).spec
            return AnalysisTemplate(metrics: spec?.metrics ?? [:],
                                    http: (spec?.https ?? [:]).merging(spec?.http ?? [:]) { _, own in own }, file: file)
        } catch {
            throw StageError.invalidStage("\(file): not a readable AnalysisTemplate: \(error)")
        }
    }
}
