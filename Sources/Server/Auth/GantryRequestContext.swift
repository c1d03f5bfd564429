import Accounts
import Hummingbird
import HummingbirdAuth

/// Every request's context: who it acts as (set by an authenticator middleware) and, for a form post, its
/// fields (read once by the role gate, which checks their CSRF token).
public struct GantryRequestContext: AuthRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Principal?
    var form: [String: String] = [:]

    public init(source: Source) {
        coreContext = .init(source: source)
        identity = nil
    }

    /// The principal the route's role gate admitted.
    func principal() throws -> Principal {
        guard let identity else { throw Refusal(status: .unauthorized, reason: "not signed in") }
        return identity
    }
}

typealias GantryRouter = Router<GantryRequestContext>
typealias GantryRoutes = RouterGroup<GantryRequestContext>
