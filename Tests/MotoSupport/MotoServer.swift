import Foundation
import FunctionHTTP
import FunctionKit
import LambdaPlatform

/// A real `moto_server` (PyPI `moto[server]`, installed by `make deps`) on a free loopback port, with an IAM
/// role functions can be created with. With `authenticated`, moto checks every request's SigV4 signature and
/// the caller's IAM policy, as AWS does: a user with an allow-all policy is created first and its key is
/// `credentials`.
public final class MotoServer: @unchecked Sendable {
    public let port: Int
    public let region = "us-east-1"
    public var endpoint: String { "http://127.0.0.1:\(port)" }
    public private(set) var roleARN = ""
    /// Valid for an authenticated server; moto takes anything otherwise.
    public private(set) var credentials = AWSCredentials(accessKeyID: "AKIDMOTOTEST", secretAccessKey: "moto-test-secret")
    private let process = Process()
    private let logPath: String

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    public init(authenticated: Bool = false) throws {
        port = try LoopbackListener.unusedPort()
        logPath = NSTemporaryDirectory() + "moto-\(port).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["moto_server", "-H", "127.0.0.1", "-p", String(port)]
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log; process.standardError = log
        do { try process.run() } catch {
            throw Failure(description: "cannot start moto_server (pip install 'moto[server]'; `make deps` does): \(error)")
        }
        try waitUntilServing()
        roleARN = try element("Arn", in: try iam(["Action": "CreateRole", "RoleName": "gantry-test-lambda", "Path": "/",
            "AssumeRolePolicyDocument": #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#]))
        if authenticated { try enableAuthentication() }
    }

    deinit { stop() }

    /// SIGKILL: moto keeps nothing worth a clean exit, and it takes seconds to honour SIGTERM or SIGINT.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public var logText: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// A Lambda client for reading what moto holds (the tests' view of "AWS").
    public func lambda(endpoint: String? = nil) -> LambdaAPI {
        let client = AWSClient(endpoint: URL(string: endpoint ?? self.endpoint)!,
                               signer: SigV4(credentials: credentials, region: region, service: "lambda"),
                               retry: RetryPolicy(maxAttempts: 1))
        return LambdaAPI(client: client)
    }

    /// The platform entry a server config or an event carries for this moto.
    public func platform(endpoint: String? = nil, credentials: String = "env") -> JSONValue {
        .object(["name": .string("moto"), "kind": .string("lambda"), "region": .string(region),
                 "endpoint": .string(endpoint ?? self.endpoint), "credentials": .string(credentials)])
    }

    /// The environment a function gets for `credentials: env`.
    public var credentialEnvironment: [String: String] {
        ["AWS_ACCESS_KEY_ID": credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey]
    }

    /// Published version numbers of `function` ($LATEST excluded), in order.
    public func versions(_ function: String) throws -> [String] {
        try lambda().listVersions(function).map(\.version)
    }

    public func alias(_ function: String, _ name: String = "Service") throws -> AliasRouting? {
        try lambda().getAlias(function, name)
    }

    private func waitUntilServing() throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            guard process.isRunning else { throw Failure(description: "moto_server exited: \(logText)") }
            if let answer = try? HTTPTransport(timeout: 2).send(method: "GET", url: URL(string: endpoint + "/moto-api/data.json")!,
                                                                 headers: [:], body: []), answer.status == 200 { return }
            usleep(100_000)
        }
        throw Failure(description: "moto_server did not answer on \(endpoint) within 30 s: \(logText)")
    }

    /// A user with an allow-all policy and an access key; then every request must be signed with that key.
    private func enableAuthentication() throws {
        _ = try iam(["Action": "CreateUser", "UserName": "gantry-deployer"])
        _ = try iam(["Action": "PutUserPolicy", "UserName": "gantry-deployer", "PolicyName": "all",
                     "PolicyDocument": #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#])
        let key = try iam(["Action": "CreateAccessKey", "UserName": "gantry-deployer"])
        credentials = AWSCredentials(accessKeyID: try element("AccessKeyId", in: key),
                                     secretAccessKey: try element("SecretAccessKey", in: key))
        let answer = try HTTPTransport().send(method: "POST", url: URL(string: endpoint + "/moto-api/reset-auth")!,
                                              headers: ["Content-Type": "application/json"], body: Array("0".utf8))
        guard answer.status == 200 else { throw Failure(description: "moto refused reset-auth: \(answer.status)") }
    }

    /// One IAM Query-protocol call (form POST); returns the XML answer.
    private func iam(_ parameters: [String: String]) throws -> String {
        let body = (parameters.merging(["Version": "2010-05-08"]) { a, _ in a })
            .map { "\(SigV4.uriEncode($0.key))=\(SigV4.uriEncode($0.value))" }.joined(separator: "&")
        let client = AWSClient(endpoint: URL(string: endpoint)!,
                               signer: SigV4(credentials: credentials, region: region, service: "iam"),
                               retry: RetryPolicy(maxAttempts: 1))
        let answer = try client.send(parameters["Action"] ?? "IAM", method: "POST", path: "/",
                                     contentType: "application/x-www-form-urlencoded; charset=utf-8", body: Array(body.utf8))
        return String(decoding: answer.body, as: UTF8.self)
    }

    private func element(_ name: String, in text: String) throws -> String {
        guard let open = text.range(of: "<\(name)>"), let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
        else { throw Failure(description: "no <\(name)> in \(text.prefix(300))") }
        return String(text[open.upperBound..<close.lowerBound])
    }
}
