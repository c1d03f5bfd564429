import Foundation
import GantrySupport
@testable import Server
import XCTest

/// `$GANTRY_CALLBACK_URL` must reach this server: `server.externalURL` when set (a Service in front of replicas, a
/// public https address), else the listen address, where a wildcard host cannot be called and becomes loopback.
final class ExternalURLTests: XCTestCase {
    func apiURL(listen: String = "127.0.0.1:8080", external: String? = nil) throws -> String {
        let dir = try makeTempDir()
        let yaml = "server:\n  listen: \"\(listen)\"\n  dataDir: \(dir)/data\n"
            + (external.map { "  externalURL: \"\($0)\"\n" } ?? "")
        try yaml.write(toFile: dir + "/gantry.yaml", atomically: true, encoding: .utf8)
        return try ServerConfig.load(path: dir + "/gantry.yaml").0.server.apiURL
    }

    func testCallbackBaseIsTheExternalURLOrAReachableListenAddress() throws {
        XCTAssertEqual(try apiURL(listen: "127.0.0.1:8080"), "http://127.0.0.1:8080")
        XCTAssertEqual(try apiURL(listen: "0.0.0.0:9000"), "http://127.0.0.1:9000")
        XCTAssertEqual(try apiURL(listen: ":9001"), "http://127.0.0.1:9001")
        XCTAssertEqual(try apiURL(listen: "0.0.0.0:9000", external: "https://gantry.example.com/"), "https://gantry.example.com")
        XCTAssertEqual(try apiURL(external: "http://gantry.ci.svc:8080"), "http://gantry.ci.svc:8080")
        for bad in ["gantry.example.com", "ftp://gantry.example.com", "https://x/?a=b"] {
            XCTAssertThrowsError(try apiURL(external: bad)) { error in
                XCTAssertTrue("\(error)".contains("server.externalURL"), "\(error)")
            }
        }
    }
}
