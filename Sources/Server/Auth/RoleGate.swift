import Accounts
import Digest
import Hummingbird
import Store

/// The role a group of routes needs, declared where the group is made, so a route cannot forget its check.
/// What happens to a caller without a principal depends on how the route is reached:
/// - `api`: 401 with `WWW-Authenticate: Bearer`;
/// - `page`: a redirect to the login page, back here afterwards;
/// - `form`: a form post must come from a signed-in page of this site, carrying the session's CSRF token in
///   `_csrf`; the form's fields are read once, here, into the context.
struct RoleGate: RouterMiddleware {
    typealias Context = GantryRequestContext
    enum Entry: Sendable { case api, page, form }

    let role: Role
    let entry: Entry

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        switch entry {
        case .api:
            guard context.identity != nil else { throw Refusal(status: .unauthorized, reason: AuthFailure.bearerRequired) }
        case .page:
            guard context.identity != nil else {
                let back = request.method == .get ? request.uri.path : "/applications"
                throw WebRedirect(location: "/login?next=" + formEscape(back))
            }
        case .form:
            context.form = try await readForm(request)
            guard let user = context.identity else { throw Refusal(status: .unauthorized, reason: "not signed in") }
            guard let expected = user.csrf, let sent = context.form["_csrf"], Digest.constantTimeEqual(expected, sent) else {
                throw Refusal(status: .forbidden, reason: "missing or wrong CSRF token: reload the page and try again")
            }
        }
        if let short = context.identity?.shortOf(role) { throw Refusal(short) }
        return try await next(request, context)
    }
}

extension RouterGroup where Context == GantryRequestContext {
    /// The routes under this group need at least `role`, reached as `entry`.
    func requiring(_ role: Role, as entry: RoleGate.Entry) -> RouterGroup<Context> {
        group().add(middleware: RoleGate(role: role, entry: entry))
    }
}
