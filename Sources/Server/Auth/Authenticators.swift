import Accounts
import Hummingbird
import HummingbirdAuth

/// API callers: the `Authorization: Bearer` token (or anyone, on an open loopback server). A token that is
/// presented and wrong is refused here; a missing one is left to the route's role gate.
struct BearerAuthenticator: AuthenticatorMiddleware {
    typealias Context = GantryRequestContext
    let accounts: Accounts

    func authenticate(request: Request, context: Context) async throws -> Principal? {
        do { return try await accounts.principal(authorization: request.headers[.authorization]) } catch let failure as AuthFailure {
            throw Refusal(failure)
        }
    }
}

/// Browser pages: the session cookie.
struct SessionAuthenticator: AuthenticatorMiddleware {
    typealias Context = GantryRequestContext
    let accounts: Accounts

    func authenticate(request: Request, context: Context) async throws -> Principal? {
        try await accounts.principal(sessionCookie: request.cookies[Accounts.sessionCookie]?.value)
    }
}
