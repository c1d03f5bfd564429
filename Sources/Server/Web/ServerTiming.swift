import HTTPTypes
import Hummingbird

/// `Server-Timing: app;dur=<ms>` on every page and API answer: the time the server spent producing the response
/// (up to its head, for a stream). The UI benchmark reads it; a browser's developer tools show it too.
struct ServerTiming<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        response.headers[HTTPField.Name("Server-Timing")!] = "app;dur=" + String(format: "%.2f", ms)
        return response
    }
}
