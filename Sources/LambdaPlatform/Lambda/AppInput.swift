import Foundation
import FunctionKit
import RepositoryYAML

/// What a LambdaApp's config says about its function: `spec.input.functionManifestFile` (default
/// `function.yaml`) and the alias that takes the traffic (`spec.input.aliasName`, default `Service` as PipeCD).
/// The function reads the app's config itself from its directory: the planner passes the directory, not the input.
public struct AppInput: Sendable, Equatable {
    public var functionManifestFile = "function.yaml"
    public var aliasName = "Service"

    static let exactNames = ["app.gantry.yaml", "app.pipecd.yaml", ".pipe.yaml"]

    /// Reads the LambdaApp config in `directory`. With several application configs there, the one whose
    /// `spec.name` is `application` wins.
    public static func read(directory: String, application: String) throws -> AppInput {
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        let files = entries.filter { exactNames.contains($0) || ($0.hasSuffix(".pipecd.yaml") && $0 != ".pipecd.yaml") }
        var lambdaApps: [(file: String, doc: YAMLField)] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: directory + "/" + file),
                  let doc = try? YAMLField.document(String(decoding: data, as: UTF8.self), file: file),
                  (try? doc.field("kind").string()) == "LambdaApp" else { continue }
            lambdaApps.append((file, doc))
        }
        guard !lambdaApps.isEmpty else {
            throw RepositoryYAML.Problem(line: nil, message: "no LambdaApp config (app.pipecd.yaml, app.gantry.yaml, ...) in the app's directory")
        }
        let chosen = lambdaApps.count == 1 ? lambdaApps[0]
            : lambdaApps.first { (try? $0.doc.at("spec.name").string()) == application } ?? lambdaApps[0]
        var input = AppInput()
        let manifestFile = try chosen.doc.at("spec.input.functionManifestFile")
        if let file = try manifestFile.nonEmptyString() {
            guard !file.hasPrefix("/"), !file.split(separator: "/").contains("..") else {
                throw manifestFile.problem("spec.input.functionManifestFile must be a file inside the app's directory, not \(file)")
            }
            input.functionManifestFile = file
        }
        let aliasName = try chosen.doc.at("spec.input.aliasName")
        if let alias = try aliasName.nonEmptyString() {
            guard alias.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }),
                  alias.first?.isNumber == false else {
                throw aliasName.problem("spec.input.aliasName \(alias) is not a Lambda alias name")
            }
            input.aliasName = alias
        }
        return input
    }
}
