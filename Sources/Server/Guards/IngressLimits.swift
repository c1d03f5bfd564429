import FunctionKit
import Ingress
import NIOCore

/// The limits in front of `/hooks`, from `gantry.yaml` with defaults. They protect the server from what a
/// hostile or broken sender can do before any signature is checked.
struct IngressLimits: Sendable {
    static let defaultMaxHeaderBytes = 32 * 1024
    static let defaultMaxInFlight = 256
    static let defaultHeaderTimeout = 10.0
    static let defaultRequestTimeout = 30.0
    /// Kept-alive connections waiting for their next request.
    static let idleTimeout = 60.0

    var maxBodyBytes: Int
    var maxHeaderBytes: Int
    var maxInFlight: Int
    var headerTimeout: Double
    var requestTimeout: Double

    init(_ server: ServerConfig.Server) throws {
        maxBodyBytes = server.maxBodyBytes ?? Ingress.defaultBodyLimit
        maxHeaderBytes = server.maxHeaderBytes ?? Self.defaultMaxHeaderBytes
        maxInFlight = server.maxInFlightHooks ?? Self.defaultMaxInFlight
        headerTimeout = try server.headerTimeout.map(DurationText.seconds) ?? Self.defaultHeaderTimeout
        requestTimeout = try server.requestTimeout.map(DurationText.seconds) ?? Self.defaultRequestTimeout
    }

    var deadlines: RequestDeadlines.Limits {
        RequestDeadlines.Limits(header: .nanoseconds(Int64(headerTimeout * 1e9)),
                                request: .nanoseconds(Int64(requestTimeout * 1e9)),
                                idle: .nanoseconds(Int64(Self.idleTimeout * 1e9)))
    }
}
