import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Where the server is and who we are: every data verb talks to the server's API only.
struct ServerOptions: ParsableArguments {
    @Option(help: "Server URL (env GANTRY_SERVER).")
    var server: String = ProcessInfo.processInfo.environment["GANTRY_SERVER"] ?? "http://127.0.0.1:8080"
    @Option(help: "API bearer token (env GANTRY_TOKEN).")
    var token: String = ProcessInfo.processInfo.environment["GANTRY_TOKEN"] ?? ""
}

struct APIError: Error, CustomStringConvertible {
    let description: String
}

struct APIClient {
    let options: ServerOptions

    /// Sends one request; returns the decoded JSON body. Non-2xx answers become errors carrying the server's reason.
    func call(_ method: String, _ path: String, body: [String: Any]? = nil) async throws -> [String: Any] {
        guard let url = URL(string: options.server.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path) else {
            throw APIError(description: "bad server URL \(options.server)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 30
        if !options.token.isEmpty { request.setValue("Bearer \(options.token)", forHTTPHeaderField: "Authorization") }
        // The server refuses writes in any other type (what a web page could send cross-site), bodiless ones too.
        if method != "GET" { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if let body { request.httpBody = try JSONSerialization.data(withJSONObject: body) }
        let (data, response): (Data, URLResponse)
        do { (data, response) = try await URLSession.shared.data(for: request) } catch {
            throw APIError(description: "cannot reach the Gantry server at \(options.server): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        guard (200..<300).contains(status) else {
            throw APIError(description: "server answered \(status): \(object["reason"] as? String ?? String(decoding: data, as: UTF8.self))")
        }
        return object
    }

    func raw(_ path: String) async throws -> Data {
        let object = try await call("GET", path)
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }
}
