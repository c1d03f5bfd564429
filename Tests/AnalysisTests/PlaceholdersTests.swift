import Analysis
import FunctionKit
import XCTest

/// The query placeholders PipeCD users write, and nothing else.
final class PlaceholdersTests: XCTestCase {
    let values = PlaceholderValues(appName: "web", appEnv: "prod", namespace: "shop", variant: "canary",
                                   args: ["job": "api", "k8sNamespace": "other"], variantArgs: ["pod": "web-canary-1"])

    func testEveryFormIsRendered() throws {
        let query = #"rate(x{app="{{ .App.Name }}",env="{{.App.Env}}",ns="{{ .K8s.Namespace }}",v="{{ .Variant.Name }}",job="{{ .Args.job }}",j2="{{ .AppCustomArgs.job }}",pod="{{ .VariantCustomArgs.pod }}"}[1m])"#
        XCTAssertEqual(try Placeholders.render(query, with: values),
                       #"rate(x{app="web",env="prod",ns="shop",v="canary",job="api",j2="api",pod="web-canary-1"}[1m])"#)
        XCTAssertEqual(try Placeholders.render("no placeholders {x}", with: values), "no placeholders {x}")
    }

    func testUnknownPlaceholdersAndMissingArgsAreConfigErrorsNamingThem() {
        for (text, expected) in [("{{ .App.Id }}", "unsupported placeholder {{ .App.Id }}"),
                                 ("{{ range .Args }}", "unsupported placeholder"),
                                 ("{{ .Args.nope }}", "no appArgs entry named nope"),
                                 ("{{ .App.Name ", "unclosed {{")] {
            XCTAssertThrowsError(try Placeholders.render(text, with: values), text) { error in
                XCTAssertEqual((error as? StageError)?.type, "InvalidStageConfig")
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }

    func testANamespaceArgStandsInOnlyWhenTheAppConfigGivesNone() {
        let without = AppFacts(name: "web", env: "", namespace: "")
        XCTAssertEqual(without.values(args: ["k8sNamespace": "shop"]).namespace, "shop")
        let with = AppFacts(name: "web", env: "", namespace: "prod")
        XCTAssertEqual(with.values(args: ["k8sNamespace": "shop"]).namespace, "prod")
    }
}
