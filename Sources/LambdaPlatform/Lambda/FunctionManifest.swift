import Foundation
import FunctionKit
import RepositoryYAML

/// The function an app deploys, read from its manifest file (`function.yaml` by default), in PipeCD's
/// `LambdaFunction` format so a PipeCD user's file is read unchanged:
/// ```yaml
/// apiVersion: pipecd.dev/v1beta1
/// kind: LambdaFunction
/// spec:
///   name: hello
///   role: arn:aws:iam::123456789012:role/lambda
///   runtime: python3.12
///   handler: app.handler
///   source: {path: src}          # a folder of the app, zipped; or `image: URI`; or `s3Bucket` + `s3Key`
///   memory: 256
///   timeout: 30
///   environments: {STAGE: prod}  # `environment` is read too
///   tags: {team: payments}
/// ```
public struct FunctionManifest: Sendable, Equatable {
    public enum Code: Sendable, Equatable {
        /// A folder relative to the app's directory, uploaded as a zip.
        case folder(String)
        case image(String)
        case s3(bucket: String, key: String, version: String?)
    }

    public var name: String
    public var role: String
    public var code: Code
    public var handler: String?
    public var runtime: String?
    public var memory: Int?
    public var timeout: Int?
    public var environment: [String: String] = [:]
    public var tags: [String: String] = [:]
    public var architectures: [String] = []
    public var ephemeralStorage: Int?
    public var subnetIDs: [String]?
    public var securityGroupIDs: [String]?

    static let apiVersions = ["pipecd.dev/v1beta1", "gantry.dev/v1"]
    /// Tag keys Gantry writes itself (the rollback record); a manifest may not set them.
    static let reservedTagPrefix = "gantry:"

    /// Reads and checks the manifest; every problem names the file, the line and the field.
    public static func load(path: String, displayName: String) throws -> FunctionManifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RepositoryYAML.Problem(line: nil, message: "function manifest \(displayName) not found in the app's directory")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: displayName)
    }

    public static func parse(_ text: String, file: String) throws -> FunctionManifest {
        let doc = try YAMLField.document(text, file: file)
        guard doc.node != nil else { throw RepositoryYAML.Problem(line: nil, message: "\(file) is empty") }
        let apiVersionField = try doc.field("apiVersion")
        let apiVersion = try apiVersionField.required().nonEmptyString()!
        guard apiVersions.contains(apiVersion) else {
            throw apiVersionField.problem("apiVersion \(apiVersion) is not supported (expected \(apiVersions.joined(separator: " or ")))")
        }
        let kindField = try doc.field("kind")
        let kind = try kindField.required().nonEmptyString()!
        guard kind == "LambdaFunction" else { throw kindField.problem("kind must be LambdaFunction, not \(kind)") }
        let spec = try doc.field("spec")
        guard spec.node?.mapping != nil else { throw spec.problem("spec is missing (name, role, runtime, ...)") }

        let nameField = try spec.field("name")
        let name = try nameField.required().nonEmptyString()!
        guard name.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw nameField.problem("spec.name \(name) is not a Lambda function name (letters, digits, - and _, at most 64)")
        }
        let role = try spec.field("role").required().nonEmptyString()!
        var manifest = FunctionManifest(name: name, role: role, code: try code(spec))
        let handler = try spec.field("handler"), runtime = try spec.field("runtime")
        manifest.handler = try handler.nonEmptyString()
        manifest.runtime = try runtime.nonEmptyString()
        if case .image = manifest.code {} else {
            guard manifest.handler != nil else { throw handler.problem("spec.handler is missing (e.g. app.handler)") }
            guard manifest.runtime != nil else { throw runtime.problem("spec.runtime is missing (e.g. python3.12)") }
        }
        manifest.memory = try spec.field("memory").int(in: 128...10240)
        manifest.timeout = try spec.field("timeout").int(in: 1...900)
        let environments = try spec.field("environments")
        manifest.environment = try (environments.isMissing ? spec.field("environment") : environments).stringMap()
        let tags = try spec.field("tags")
        manifest.tags = try tags.stringMap()
        for (key, value) in try tags.entries() where key.hasPrefix(reservedTagPrefix) || key.hasPrefix("aws:") {
            throw value.problem("spec.tags.\(key): tags starting with gantry: or aws: are reserved")
        }
        manifest.architectures = try architectures(spec.field("architectures"))
        manifest.ephemeralStorage = try spec.field("ephemeralStorage").field("size").int(in: 512...10240)
        let vpc = try spec.field("vpcConfig")
        if !vpc.isMissing {
            manifest.subnetIDs = try vpc.field("subnetIds").stringList()
            manifest.securityGroupIDs = try vpc.field("securityGroupIds").stringList()
        }
        return manifest
    }

    /// Exactly one of: `image`, `s3Bucket` + `s3Key`, `source.path`.
    private static func code(_ spec: YAMLField) throws -> Code {
        let image = try spec.field("image").nonEmptyString()
        let bucket = try spec.field("s3Bucket").nonEmptyString()
        let source = try spec.field("source")
        // `source: src` names the folder itself; `source: {path: src}` is PipeCD's form.
        var pathField: YAMLField? = nil
        if let node = source.node {
            if node.scalar != nil { pathField = source } else {
                let git = try source.field("git")
                if !git.isMissing {
                    throw git.problem("spec.source.git (code in another repository) is not supported: "
                                      + "keep the code beside the app and set spec.source.path")
                }
                pathField = try source.field("path").required()
            }
        }
        let sourcePath = try pathField?.nonEmptyString()
        let given = [image != nil, bucket != nil, sourcePath != nil].filter { $0 }.count
        guard given == 1 else {
            throw spec.problem(given == 0
                ? "spec needs the function's code: source.path (a folder of the app), image, or s3Bucket and s3Key"
                : "spec names more than one code location: use only one of source.path, image, s3Bucket")
        }
        if let image { return .image(image) }
        if let bucket {
            let key = try spec.field("s3Key").required().nonEmptyString()!
            return .s3(bucket: bucket, key: key, version: try spec.field("s3ObjectVersion").nonEmptyString())
        }
        let path = sourcePath!
        guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            throw (pathField ?? source).problem("spec.source.path must be a folder inside the app's directory, not \(path)")
        }
        return .folder(path)
    }

    /// PipeCD writes `architectures: [{name: arm64}]`; a plain list of names is read too.
    private static func architectures(_ list: YAMLField) throws -> [String] {
        try list.items().map { item in
            let name = try (item.node?.mapping != nil ? item.field("name").string() : item.string()) ?? ""
            guard name == "x86_64" || name == "arm64" else {
                throw list.problem("spec.architectures: \(item.json?.encoded() ?? "null") is not x86_64 or arm64")
            }
            return name
        }
    }
}
