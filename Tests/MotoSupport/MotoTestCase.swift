import XCTest

/// A test class with its own moto_server, started once before its first test and killed after its last.
/// When moto cannot start, every test of the class fails with the reason (instead of crashing the run).
open class MotoTestCase: XCTestCase {
    /// Override with true for a moto that checks signatures and IAM policies.
    open class var motoChecksSignatures: Bool { false }

    nonisolated(unsafe) private static var servers: [ObjectIdentifier: Result<MotoServer, Error>] = [:]

    public var moto: MotoServer {
        // setUpWithError already failed the test when there is none.
        try! Self.servers[ObjectIdentifier(type(of: self))]!.get()
    }

    override open class func setUp() {
        super.setUp()
        servers[ObjectIdentifier(self)] = Result { try MotoServer(authenticated: motoChecksSignatures) }
    }

    override open class func tearDown() {
        if case .success(let server)? = servers.removeValue(forKey: ObjectIdentifier(self)) { server.stop() }
        super.tearDown()
    }

    override open func setUpWithError() throws {
        try super.setUpWithError()
        guard let server = Self.servers[ObjectIdentifier(type(of: self))] else {
            throw MotoServer.Failure(description: "moto_server was not started for \(type(of: self))")
        }
        _ = try server.get()
    }
}
