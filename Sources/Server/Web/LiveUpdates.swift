import Accounts
import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import Store

/// `GET /deployments/{id}/events`: Server-Sent Events for the deployment page. The handler looks at the
/// deployment's version (stage statuses and attempts, last log id: one small indexed read) every 250 ms and
/// pushes only what changed: the re-rendered stage graph and new log lines. It ends with `done` once the
/// deployment is final, after 10 minutes (the browser reconnects, resuming after the last log id), and when the
/// server shuts down: a graceful stop waits for open requests, and an open tab must not hold it up.
func addLiveUpdates(to viewer: GantryRoutes, web: WebContext) {
    addApplicationsLiveUpdates(to: viewer, web: web)
    viewer.get("/deployments/:id/events") { request, context -> Response in
        let user = try context.principal()
        let id = context.parameters.get("id") ?? ""
        guard try await web.store.deployment(id: id) != nil else { throw Refusal(status: .notFound, reason: "no deployment \(id)") }
        let resumeAfter = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int64($0) }
            ?? request.uri.queryParameters.get("after").flatMap { Int64($0) } ?? 0
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var lastLog = resumeAfter
            var lastVersion = ""
            var quietSince = Date()
            let until = Date().addingTimeInterval(600)
            // Tell the browser to come back after 1 s if the stream ends early.
            try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
            while Date() < until && !Task.isShuttingDownGracefully {
                guard let version = try await web.store.deploymentVersion(id: id) else { break }
                if version != lastVersion {
                    lastVersion = version
                    guard let detail = try await web.store.deployment(id: id) else { break }
                    let model = try await pipelineModel(web, detail, user: user)
                    let fragment = web.library.render(model, withTemplate: "pipeline") ?? ""
                    var out = sseEvent("pipeline", fragment)
                    for entry in try await web.store.logs(deploymentID: id, stageIndex: nil, afterID: lastLog) {
                        out += sseEvent("log", jsonLine(LiveLogLine(stage: entry.line.stageIndex, line: entry.line.line)), id: entry.id)
                        lastLog = entry.id
                    }
                    if detail.deployment.status.isFinal { out += sseEvent("done", detail.deployment.status.rawValue) }
                    try await writer.write(ByteBuffer(string: out))
                    quietSince = Date()
                    if detail.deployment.status.isFinal { break }
                } else if Date().timeIntervalSince(quietSince) > 15 {
                    // A comment keeps proxies from closing an idle stream, and finds a gone browser.
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    quietSince = Date()
                }
                try await Task.sleep(nanoseconds: 250_000_000)
            }
            try await writer.finish(nil)
        })
    }
}

/// `GET /live/applications`: the applications' rows, re-rendered every second and pushed when they differ
/// (a few applications' latest deployments: cheaper than any bookkeeping of what changed).
func addApplicationsLiveUpdates(to viewer: GantryRoutes, web: WebContext) {
    viewer.get("/live/applications") { _, _ -> Response in
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var last = ""
            var quietSince = Date()
            let until = Date().addingTimeInterval(600)
            try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
            while Date() < until && !Task.isShuttingDownGracefully {
                let rows = web.library.render(ApplicationsPage(apps: try await applicationRows(web)), withTemplate: "appRows") ?? ""
                if rows != last {
                    // The first one too: the rows may have changed between the page and this stream.
                    try await writer.write(ByteBuffer(string: sseEvent("rows", rows)))
                    last = rows
                    quietSince = Date()
                } else if Date().timeIntervalSince(quietSince) > 15 {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    quietSince = Date()
                }
                try await Task.sleep(nanoseconds: 1_000_000_000)
            }
            try await writer.finish(nil)
        })
    }
}

/// One SSE event; each line of the data gets its own `data:` field (the browser joins them with newlines).
func sseEvent(_ name: String, _ data: String, id: Int64? = nil) -> String {
    var out = "event: \(name)\n"
    if let id { out += "id: \(id)\n" }
    // A carriage return would end an SSE line too: none may reach the stream.
    for line in data.replacingOccurrences(of: "\r", with: "").split(separator: "\n", omittingEmptySubsequences: false) {
        out += "data: \(line)\n"
    }
    return out + "\n"
}

/// A log line as the deployment page's script reads it.
private struct LiveLogLine: Encodable { var stage: Int; var line: String }

private func jsonLine(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
}
