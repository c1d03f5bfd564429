import Foundation
import FunctionKit

/// The Lambda REST calls the stages use (API version 2015-03-31, tags 2017-03-31), over a signed `AWSClient`.
public struct LambdaAPI: Sendable {
    public let client: AWSClient
    let log: @Sendable (String) -> Void

    public init(client: AWSClient, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.client = client; self.log = log
    }

    static func functionPath(_ name: String, _ rest: String = "") -> String { "/2015-03-31/functions/\(name)\(rest)" }

    /// nil when the function does not exist.
    public func getFunction(_ name: String) throws -> FunctionState? {
        do {
            return FunctionState(json: try client.json("GetFunction", method: "GET", path: Self.functionPath(name)))
        } catch let error as AWSError where error.code == "ResourceNotFoundException" {
            return nil
        }
    }

    public func createFunction(_ body: JSONValue) throws -> JSONValue {
        try client.json("CreateFunction", method: "POST", path: "/2015-03-31/functions", body: body)
    }

    public func updateCode(_ name: String, _ body: JSONValue) throws {
        _ = try client.json("UpdateFunctionCode", method: "PUT", path: Self.functionPath(name, "/code"), body: body)
    }

    public func updateConfiguration(_ name: String, _ body: JSONValue) throws {
        _ = try client.json("UpdateFunctionConfiguration", method: "PUT", path: Self.functionPath(name, "/configuration"),
                            body: body)
    }

    /// Waits until a create or update has been applied (State leaves Pending, LastUpdateStatus leaves
    /// InProgress): AWS refuses to publish or update a function meanwhile. A failed update throws its reason.
    public func waitUntilUpdated(_ name: String, deadline: Date) throws {
        var delay = 0.5
        while true {
            let config = try client.json("GetFunctionConfiguration", method: "GET",
                                         path: Self.functionPath(name, "/configuration"))
            let state = config["State"]?.string ?? "Active"
            let update = config["LastUpdateStatus"]?.string ?? "Successful"
            if state == "Failed" || update == "Failed" {
                let reason = config["LastUpdateStatusReason"]?.string ?? config["StateReason"]?.string ?? "no reason given"
                throw AWSError(operation: "UpdateFunction", status: 0, code: config["LastUpdateStatusReasonCode"]?.string
                               ?? config["StateReasonCode"]?.string ?? "UpdateFailed", message: reason)
            }
            if state != "Pending" && update != "InProgress" { return }
            guard Date().addingTimeInterval(delay) < deadline else {
                throw AWSError(operation: "UpdateFunction", status: 0, code: "Timeout",
                               message: "function \(name) is still \(state)/\(update) at the stage's deadline")
            }
            log("waiting for function \(name) to finish updating (\(state), \(update))")
            Thread.sleep(forTimeInterval: delay)
            delay = min(delay * 2, 5)
        }
    }

    /// Publishes $LATEST; `codeSha256` makes AWS refuse if the code is not the one this stage uploaded.
    public func publishVersion(_ name: String, description: String, codeSha256: String?) throws -> String {
        var body: [String: JSONValue] = ["Description": .string(description)]
        if let codeSha256 { body["CodeSha256"] = .string(codeSha256) }
        let answer = try client.json("PublishVersion", method: "POST", path: Self.functionPath(name, "/versions"),
                                     body: .object(body))
        guard let version = answer["Version"]?.string, version != "$LATEST" else {
            throw AWSError(operation: "PublishVersion", status: 200, code: "InvalidResponse",
                           message: "the answer names no published version: \(answer.encoded().prefix(200))")
        }
        return version
    }

    /// Every published version (not $LATEST) with its description, all pages.
    public func listVersions(_ name: String) throws -> [(version: String, description: String)] {
        var out: [(String, String)] = []
        var marker: String?
        repeat {
            var query: [(name: String, value: String)] = [("MaxItems", "50")]
            if let marker { query.append(("Marker", marker)) }
            let page = try client.json("ListVersionsByFunction", method: "GET", path: Self.functionPath(name, "/versions"),
                                       query: query)
            for v in page["Versions"]?.array ?? [] {
                guard let version = v["Version"]?.string, version != "$LATEST" else { continue }
                out.append((version, v["Description"]?.string ?? ""))
            }
            marker = page["NextMarker"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        } while marker != nil
        return out
    }

    /// nil when the alias does not exist.
    public func getAlias(_ function: String, _ alias: String) throws -> AliasRouting? {
        do {
            return AliasRouting(aliasJSON: try client.json("GetAlias", method: "GET",
                                                           path: Self.functionPath(function, "/aliases/\(alias)")))
        } catch let error as AWSError where error.code == "ResourceNotFoundException" {
            return nil
        }
    }

    /// Points `alias` at `routing`, creating the alias when it does not exist yet; returns what AWS answered.
    @discardableResult
    public func setAlias(_ function: String, _ alias: String, to routing: AliasRouting) throws -> AliasRouting {
        let body: [String: JSONValue] = ["FunctionVersion": .string(routing.version),
                                         "RoutingConfig": routing.routingConfigJSON]
        if try getAlias(function, alias) == nil {
            var create = body
            create["Name"] = .string(alias)
            return AliasRouting(aliasJSON: try client.json("CreateAlias", method: "POST",
                                                           path: Self.functionPath(function, "/aliases"), body: .object(create)))
        }
        return AliasRouting(aliasJSON: try client.json("UpdateAlias", method: "PUT",
                                                       path: Self.functionPath(function, "/aliases/\(alias)"),
                                                       body: .object(body)))
    }

    /// Adds or overwrites tags on the function (others stay).
    public func tag(_ arn: String, _ tags: [String: String]) throws {
        guard !tags.isEmpty else { return }
        _ = try client.json("TagResource", method: "POST", path: "/2017-03-31/tags/\(arn)",
                            body: .object(["Tags": .object(tags.mapValues { .string($0) })]))
    }
}
