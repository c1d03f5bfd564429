import Analysis
import Foundation
import FunctionKit
import XCTest

/// `with:` as PipeCD users write it, templates applied, every problem a configuration error naming its entry.
final class StageOptionsTests: XCTestCase {
    func options(_ json: String) throws -> AnalysisOptions {
        try JSONDecoder().decode(AnalysisOptions.self, from: Data(json.utf8))
    }

    func testPipeCDsSpellingsAreRead() throws {
        let o = try options("""
            {"duration": "10m",
             "metrics": [{"provider": "prom", "query": "up", "interval": "1m", "expected": {"max": 0.1}, "failureLimit": 2,
                          "skipOnNoData": true},
                         {"template": {"name": "error_rate", "appArgs": {"job": "api", "port": 8080}}}],
             "https": [{"url": "http://x/health", "interval": 30, "headers": [{"key": "Host", "value": "web"}]}],
             "http": [{"url": "http://y/ready", "method": "head", "interval": "5s", "expectedCode": 204, "failureLimit": 3}]}
            """)
        XCTAssertEqual(o.duration?.text, "10m")
        let checks = try CheckResolution.metrics(o.metrics, template: AnalysisTemplate(
            metrics: ["error_rate": try JSONDecoder().decode(MetricsSettings.self, from: Data(#"{"provider": "prom", "query": "q", "interval": "10s", "strategy": "CANARY_BASELINE", "deviation": "HIGH"}"#.utf8))],
            http: [:], file: ".pipe/analysis-template.yaml"))
        XCTAssertEqual(checks.map(\.id), ["metrics[0]", "metrics[1]"])
        XCTAssertEqual(checks[0].expected, .init(max: 0.1))
        XCTAssertEqual(checks[0].failureLimit, 2)
        XCTAssertTrue(checks[0].skipOnNoData)
        XCTAssertEqual(checks[1].strategy, .canaryBaseline)
        XCTAssertEqual(checks[1].deviation, .high)
        XCTAssertEqual(checks[1].args, ["job": "api", "port": "8080"])
        let http = try CheckResolution.http(o.http, template: nil)
        XCTAssertEqual(http.map { "\($0.method) \($0.url) \($0.expectedCode) every \($0.interval)s, limit \($0.failureLimit)" },
                       ["HEAD http://y/ready 204 every 5.0s, limit 3", "GET http://x/health 200 every 30.0s, limit 0"])
        XCTAssertEqual(http[1].headers, [.init(key: "Host", value: "web")])
    }

    func testMissingOrWrongSettingsNameTheEntry() throws {
        for (json, expected) in [
            (#"{"metrics": [{"provider": "p", "query": "q", "interval": "1s"}]}"#, "metrics[0]: the THRESHOLD strategy needs expected.min or expected.max"),
            (#"{"metrics": [{"query": "q", "interval": "1s", "expected": {"max": 1}}]}"#, "metrics[0]: provider is required"),
            (#"{"metrics": [{"provider": "p", "query": "q", "interval": "1s", "strategy": "GUESS"}]}"#, "strategy GUESS is not"),
            (#"{"metrics": [{"template": {"name": "t"}}]}"#, "metrics[0]: template t is named, but there is no AnalysisTemplate"),
        ] {
            XCTAssertThrowsError(try CheckResolution.metrics(try options(json).metrics, template: nil), json) {
                XCTAssertEqual(($0 as? StageError)?.type, "InvalidStageConfig")
                XCTAssertTrue("\($0)".contains(expected), "\($0)")
            }
        }
        XCTAssertThrowsError(try CheckResolution.http(try options(#"{"http": [{"url": "http://x"}]}"#).http, template: nil)) {
            XCTAssertTrue("\($0)".contains("http[0]: interval is required"), "\($0)")
        }
    }

    func testTheTemplateIsFoundInTheAppsFolderBeforeTheRepositorysAndOtherKindsAreSkipped() throws {
        let root = NSTemporaryDirectory() + "analysis-template-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for dir in ["app/.pipe", "shared/.pipe", "shared/.gantry"] {
            try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        try "apiVersion: pipecd.dev/v1beta1\nkind: EventWatcher\nspec: {}\n".write(toFile: root + "/shared/.gantry/a.yaml", atomically: true, encoding: .utf8)
        try """
            apiVersion: pipecd.dev/v1beta1
            kind: AnalysisTemplate
            spec:
              metrics:
                error_rate:
                  provider: prom
                  query: sum(errors{app="{{ .App.Name }}"})
                  interval: 10s
                  expected: {max: 0.5}
              https:
                health: {url: "http://{{ .App.Name }}/health", interval: 5s}
            """.write(toFile: root + "/shared/.pipe/analysis-template.yaml", atomically: true, encoding: .utf8)
        let found = try XCTUnwrap(try AnalysisTemplate.find(in: [root + "/app", root + "/shared"]))
        XCTAssertEqual(found.file, ".pipe/analysis-template.yaml")
        XCTAssertEqual(found.metrics["error_rate"]?.query, #"sum(errors{app="{{ .App.Name }}"})"#)
        XCTAssertEqual(found.metrics["error_rate"]?.expected, .init(max: 0.5))
        XCTAssertEqual(found.http["health"]?.interval?.text, "5s")
        try "kind: AnalysisTemplate\nspec:\n  metrics:\n    own: {provider: p, query: mine, interval: 1s}\n"
            .write(toFile: root + "/app/.pipe/analysis-template.yaml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try AnalysisTemplate.find(in: [root + "/app", root + "/shared"])?.metrics.keys.sorted(), ["own"])
    }

    func testACheckpointWithTheStartAloneResumesWithNoRounds() throws {
        let p = try AnalysisProgress.resume(from: .object(["startedAt": .string("2025-03-01T10:00:00.000Z")]), now: Date())
        XCTAssertEqual(p, AnalysisProgress(startedAt: "2025-03-01T10:00:00.000Z"))
        var q = p
        q.checks["metrics[0]"] = .init(rounds: 3, failures: 1)
        XCTAssertEqual(try AnalysisProgress.resume(from: q.json, now: Date()), q)
    }
}
