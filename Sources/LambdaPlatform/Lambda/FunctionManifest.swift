import Foundation
import FunctionKit

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
            throw YAMLDocument.Problem(description: "function manifest \(displayName) not found in the app's directory")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: displayName)
    }

    public static func parse(_ text: String, file: String) throws -> FunctionManifest {
        let doc = try YAMLDocument(text: text, file: file)
        let apiVersion = try doc.string("apiVersion", required: true)!
        guard apiVersions.contains(apiVersion) else {
            throw doc.problem("apiVersion", "apiVersion \(apiVersion) is not supported (expected \(apiVersions.joined(separator: " or ")))")
        }
        let kind = try doc.string("kind", required: true)!
        guard kind == "LambdaFunction" else { throw doc.problem("kind", "kind must be LambdaFunction, not \(kind)") }
        guard doc.value("spec")?.object != nil else { throw doc.problem("spec", "spec is missing (name, role, runtime, ...)") }

        let name = try doc.string("spec.name", required: true)!
        guard name.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw doc.problem("spec.name", "spec.name \(name) is not a Lambda function name (letters, digits, - and _, at most 64)")
        }
        let role = try doc.string("spec.role", required: true)!
        var manifest = FunctionManifest(name: name, role: role, code: try code(doc))
        manifest.handler = try doc.string("spec.handler")
        manifest.runtime = try doc.string("spec.runtime")
        if case .image = manifest.code {} else {
            guard manifest.handler != nil else { throw doc.problem("spec.handler", "spec.handler is missing (e.g. app.handler)") }
            guard manifest.runtime != nil else { throw doc.problem("spec.runtime", "spec.runtime is missing (e.g. python3.12)") }
        }
        manifest.memory = try doc.int("spec.memory", in: 128...10240)
        manifest.timeout = try doc.int("spec.timeout", in: 1...900)
        manifest.environment = try doc.stringMap(doc.value("spec.environments") != nil ? "spec.environments" : "spec.environment")
        manifest.tags = try doc.stringMap("spec.tags")
        for key in manifest.tags.keys where key.hasPrefix(reservedTagPrefix) || key.hasPrefix("aws:") {
            throw doc.problem("spec.tags.\(key)", "spec.tags.\(key): tags starting with gantry: or aws: are reserved")
        }
        manifest.architectures = try architectures(doc)
        manifest.ephemeralStorage = try doc.int("spec.ephemeralStorage.size", in: 512...10240)
        if doc.value("spec.vpcConfig") != nil {
            manifest.subnetIDs = try doc.stringList("spec.vpcConfig.subnetIds")
            manifest.securityGroupIDs = try doc.stringList("spec.vpcConfig.securityGroupIds")
        }
        return manifest
    }

    /// Exactly one of: `image`, `s3Bucket` + `s3Key`, `source.path`.
    private static func code(_ doc: YAMLDocument) throws -> Code {
        let image = try doc.string("spec.image")
        let bucket = try doc.string("spec.s3Bucket")
        let sourcePath: String?
        if let source = doc.value("spec.source") {
            if case .string(let path) = source { sourcePath = path } else {
                if doc.value("spec.source.git") != nil {
                    throw doc.problem("spec.source.git", "spec.source.git (code in another repository) is not supported: "
                                      + "keep the code beside the app and set spec.source.path")
                }
                sourcePath = try doc.string("spec.source.path", required: true)
            }
        } else {
            sourcePath = nil
        }
        let given = [image != nil, bucket != nil, sourcePath != nil].filter { $0 }.count
        guard given == 1 else {
            throw doc.problem("spec", given == 0
                ? "spec needs the function's code: source.path (a folder of the app), image, or s3Bucket and s3Key"
                : "spec names more than one code location: use only one of source.path, image, s3Bucket")
        }
        if let image { return .image(image) }
        if let bucket {
            let key = try doc.string("spec.s3Key", required: true)!
            return .s3(bucket: bucket, key: key, version: try doc.string("spec.s3ObjectVersion"))
        }
        let path = sourcePath!
        guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            throw doc.problem("spec.source.path", "spec.source.path must be a folder inside the app's directory, not \(path)")
        }
        return .folder(path)
    }

    /// PipeCD writes `architectures: [{name: arm64}]`; a plain list of names is read too.
    private static func architectures(_ doc: YAMLDocument) throws -> [String] {
        guard let list = doc.value("spec.architectures") else { return [] }
        guard let items = list.array else { throw doc.problem("spec.architectures", "spec.architectures must be a list") }
        return try items.map { item in
            let name = item["name"]?.string ?? item.string ?? ""
            guard name == "x86_64" || name == "arm64" else {
                throw doc.problem("spec.architectures", "spec.architectures: \(item.encoded()) is not x86_64 or arm64")
            }
            return name
        }
    }
}
