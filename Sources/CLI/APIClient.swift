import ArgumentParser
import Foundation
import GantryAPI
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

/// The API's typed client: requests and answers are `GantryAPI` types, as the server writes them.
struct APIClient {
    let options: ServerOptions

    func get<Answer: Decodable>(_ path: String, as: Answer.Type) async throws -> Answer {
        try decode(Answer.self, from: try await send("GET", path, body: nil))
    }

    func post<Answer: Decodable>(_ path: String, _ body: some Encodable, as: Answer.Type) async throws -> Answer {
        try decode(Answer.self, from: try await send("POST", path, body: try JSONEncoder().encode(body)))
    }

    /// Sends one request; non-2xx answers become errors carrying the server's reason.
    private func send(_ method: String, _ path: String, body: Data?) async throws -> Data {
        guard let url = URL(string: options.server.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path) else {
            throw APIError(description: "bad server URL \(options.server)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 30
        if !options.token.isEmpty { request.setValue("Bearer \(options.token)", forHTTPHeaderField: "Authorization") }
        // The server refuses writes in any other type (what a web page could send cross-site), bodiless ones too.
        if method != "GET" { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        request.httpBody = body
        let (data, response): (Data, URLResponse)
        do { (data, response) = try await URLSession.shared.data(for: request) } catch {
            throw APIError(description: "cannot reach the Gantry server at \(options.server): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let reason = (try? JSONDecoder().decode(Message.self, from: data))?.reason ?? String(decoding: data, as: UTF8.self)
            throw APIError(description: "server answered \(status): \(reason)")
        }
        return data
    }

    private func decode<Answer: Decodable>(_ type: Answer.Type, from data: Data) throws -> Answer {
        do { return try JSONDecoder().decode(type, from: data) } catch {
            throw APIError(description: "the server's answer is not what this CLI expects (\(error)); is the server the same version?")
        }
    }
}

/// `--json`: the answer as JSON, keys sorted, as the server wrote it.
func printJSON(_ value: some Encodable, pretty: Bool = true) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
