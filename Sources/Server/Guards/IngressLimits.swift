import FunctionKit
import Ingress
import NIOCore

/// The limits in front of `/hooks`, from `gantry.yaml` with defaults. They protect the server from what a
/// hostile or broken sender can do before any signature is checked.
struct IngressLimits: Sendable {
    static let defaultMaxBodyBytes = Ingress.defaultBodyLimit
    static let defaultMaxHeaderBytes = 32 * 1024
    static let defaultMaxInFlight = 256
    static let defaultHeaderTimeout = 10.0
    static let defaultRequestTimeout = 30.0
    /// What all webhook requests together may hold before their signatures are checked (at least one body's cap).
    static let defaultMaxUnverifiedBytes = 64 * 1024 * 1024
    /// Kept-alive connections waiting for their next request.
    static let idleTimeout = 60.0

    var maxBodyBytes: Int
    var maxHeaderBytes: Int
    var maxInFlight: Int
    var headerTimeout: Double
    var requestTimeout: Double
    var maxUnverifiedBytes: Int

    init(_ server: ServerConfig.Server) throws {
        maxBodyBytes = server.maxBodyBytes ?? Self.defaultMaxBodyBytes
        maxHeaderBytes = server.maxHeaderBytes ?? Self.defaultMaxHeaderBytes
        maxInFlight = server.maxInFlightHooks ?? Self.defaultMaxInFlight
        headerTimeout = try server.headerTimeout.map(DurationText.seconds) ?? Self.defaultHeaderTimeout
        requestTimeout = try server.requestTimeout.map(DurationText.seconds) ?? Self.defaultRequestTimeout
        maxUnverifiedBytes = server.maxUnverifiedBytes ?? max(Self.defaultMaxUnverifiedBytes, maxBodyBytes)
    }

    var deadlines: RequestDeadlines.Limits {
        RequestDeadlines.Limits(header: .nanoseconds(Int64(headerTimeout * 1e9)),
                                request: .nanoseconds(Int64(requestTimeout * 1e9)),
                                idle: .nanoseconds(Int64(Self.idleTimeout * 1e9)))
    }
}
