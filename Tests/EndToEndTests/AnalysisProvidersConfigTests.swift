import Engine
import Foundation
import FunctionKit
@testable import Server
import GantryAPI
import GantrySupport
import XCTest

/// `analysisProviders:` in gantry.yaml: checked at start, and handed to functions with every credential replaced by a
/// secret's name; the values travel as secret files only.
final class AnalysisProvidersConfigTests: XCTestCase {
    func load(_ providers: String) throws -> ServerConfig {
        let dir = try makeTempDir()
        try "server:\n  listen: 127.0.0.1:0\n  dataDir: \(dir)/data\nanalysisProviders:\n\(providers)\n"
            .write(toFile: dir + "/gantry.yaml", atomically: true, encoding: .utf8)
        return try ServerConfig.load(path: dir + "/gantry.yaml").0
    }

    func testCredentialsBecomeSecretsAndTheirFilesAreHiddenFromFunctions() throws {
        let dir = try makeTempDir()
        try "s3cret\n".write(toFile: dir + "/password", atomically: true, encoding: .utf8)
        let config = try load("""
              - name: prom
                type: PROMETHEUS
                config: {address: "http://127.0.0.1:9090", username: gantry, password: "file:\(dir)/password", timeout: 10s}
              - name: prom-token
                type: PROMETHEUS
                config: {address: "https://prom.example.com", bearerToken: env:PROM_TOKEN}
            """)
        let section = try config.analysisProvidersSection(environment: ["PROM_TOKEN": "t0ken"])
        XCTAssertEqual(section.secrets, ["analysisProviders.prom.password": "s3cret", "analysisProviders.prom-token.bearerToken": "t0ken"])
        XCTAssertEqual(section.value, .array([
            .object(["name": .string("prom"), "type": .string("PROMETHEUS"), "config": .object([
                "address": .string("http://127.0.0.1:9090"), "username": .string("gantry"), "timeout": .string("10s"),
                "password": .object(["secret": .string("analysisProviders.prom.password")])])]),
            .object(["name": .string("prom-token"), "type": .string("PROMETHEUS"), "config": .object([
                "address": .string("https://prom.example.com"),
                "bearerToken": .object(["secret": .string("analysisProviders.prom-token.bearerToken")])])]),
        ]))
        XCTAssertFalse(section.value.encoded().contains("s3cret"))
        XCTAssertTrue(config.secretFiles.contains(dir + "/password"), "\(config.secretFiles)")
    }

    func testBadEntriesRefuseTheStart() throws {
        for (providers, expected) in [
            ("  - {name: p, type: DATADOG, config: {address: http://x}}", "type DATADOG is not supported"),
            ("  - {name: p, type: PROMETHEUS, config: {address: prom:9090}}", "config.address must be an http(s) URL"),
            ("  - {name: p, type: PROMETHEUS, config: {address: http://x}}\n  - {name: p, type: PROMETHEUS, config: {address: http://y}}",
             "analysisProviders[p] appears twice"),
            ("  - {name: ../p, type: PROMETHEUS, config: {address: http://x}}", "a provider name holds letters"),
        ] {
            XCTAssertThrowsError(try load(providers), providers) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
        }
        XCTAssertThrowsError(try load("  - {name: p, type: PROMETHEUS, config: {address: http://x, password: env:NOPE_NOT_SET}}")
            .analysisProvidersSection(environment: [:])) {
            XCTAssertTrue("\($0)".contains("analysisProviders[p].config.password: environment variable NOPE_NOT_SET is not set"), "\($0)")
        }
    }
}
