import Accounts
import Hummingbird

/// A refused request, thrown from a handler or a middleware: the response says why (401 unknown, 403 not allowed).
struct Refusal: HTTPResponseError {
    let status: HTTPResponse.Status
    let reason: String

    init(status: HTTPResponse.Status, reason: String) { self.status = status; self.reason = reason }

    init(_ failure: AuthFailure) {
        self.init(status: failure.kind == .unauthenticated ? .unauthorized : .forbidden, reason: failure.reason)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var r = problem(status, reason)
        if status == .unauthorized { r.headers[.wwwAuthenticate] = "Bearer" }
        return r
    }
}
