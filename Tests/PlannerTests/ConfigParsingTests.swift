import FunctionKit
@testable import Planner
import XCTest

/// The pieces below the planner: config parsing, path globs and the stage plan.
final class ConfigParsingTests: XCTestCase {
    /// Kinds as two functions would declare them: the planner knows a kind only from a function.
    static let kinds = AppKinds(platformKinds: [
        AppKind(name: "CloudRunApp", platformKind: "cloudrun", syncStage: "CLOUDRUN_SYNC", function: "cloudrun",
                plugin: "cloudrun", configKeys: ["input"]),
        AppKind(name: "ECSApp", platformKind: "ecs", syncStage: "ECS_SYNC", function: "ecs"),
    ])

    func testPipeCDConfigWithManyUnknownFieldsIsRead() throws {
        let config = try XCTUnwrap(AppConfigParser.parse("""
            apiVersion: pipecd.dev/v1beta1
            kind: CloudRunApp
            spec:
              name: api
              labels:
                env: prod
              input:
                serviceManifestFile: service.yaml
                autoRollback: false
              notification: {mentions: [{event: DEPLOYMENT_TRIGGERED, slack: [foo]}]}
              trigger:
                onCommit:
                  paths: [config/]
                  ignores: ["*.md"]
                onOutOfSync:
                  disabled: false
              pipeline:
                stages:
                  - id: canary
                    name: CLOUDRUN_PROMOTE
                    with:
                      percent: 10
                      nested: {list: [1, true, null, 2.5, "x"]}
                    timeout: 1h30m
            """, kinds: Self.kinds))
        XCTAssertEqual(config.kind.name, "CloudRunApp")
        XCTAssertEqual(config.kind.platformKind, "cloudrun")
        // Read by nobody, so shown on the app: never dropped without a word. `input` is the function's to read.
        XCTAssertEqual(config.warnings.map { $0.text(file: "f.yaml") }, [
            "f.yaml line 10: spec.notification is not implemented by Gantry and is ignored",
            "f.yaml line 15: spec.trigger.onOutOfSync is not implemented by Gantry and is ignored",
        ])
        XCTAssertEqual(config.name, "api")
        XCTAssertEqual(config.labels, ["env": "prod"])
        XCTAssertFalse(config.autoRollback)
        XCTAssertEqual(config.onCommit.paths, ["config/"])
        XCTAssertEqual(config.onCommit.ignores, ["*.md"])
        XCTAssertEqual(config.stages.count, 1)
        XCTAssertEqual(config.stages[0].id, "canary")
        XCTAssertEqual(config.stages[0].timeoutSeconds, 5400)
        XCTAssertEqual(config.stages[0].with, .object([
            "percent": .number(10),
            "nested": .object(["list": .array([.number(1), .bool(true), .null, .number(2.5), .string("x")])]),
        ]))
    }

    func testEncryptionIsReadAndItsShapeCheckedAtItsLine() throws {
        let config = try XCTUnwrap(AppConfigParser.parse("""
            apiVersion: pipecd.dev/v1beta1
            kind: CloudRunApp
            spec:
              encryption:
                encryptedSecrets: {password: R1...}
                decryptionTargets: [secret.yaml]
                keyName: old
            """, kinds: Self.kinds))
        XCTAssertEqual(config.warnings.map { $0.text(file: "f.yaml") },
                       ["f.yaml line 7: spec.encryption.keyName is not implemented by Gantry and is ignored"])
        XCTAssertThrowsError(try AppConfigParser.parse("""
            apiVersion: pipecd.dev/v1beta1
            kind: CloudRunApp
            spec:
              encryption:
                encryptedSecrets: [R1...]
            """, kinds: Self.kinds)) { error in
            XCTAssertEqual((error as? ConfigProblem)?.text(file: "f.yaml"),
                           "f.yaml line 5: spec.encryption.encryptedSecrets must be a mapping, not a list")
        }
    }

    func testPipeCDv1ApplicationTakesItsKindFromThePluginAFunctionDeclares() throws {
        let config = try XCTUnwrap(AppConfigParser.parse("""
            apiVersion: pipecd.dev/v1beta1
            kind: Application
            spec:
              name: api
              pipeline:
                stages:
                  - name: CLOUDRUN_PROMOTE
                    skipOn: {commitMessagePrefixes: ["[docs]"], paths: ["docs/**"]}
              plugins:
                cloudrun:
                  deployTarget: prod
                  input: {serviceManifestFile: service.yaml}
                  variables: {a: b}
            """, kinds: Self.kinds))
        XCTAssertEqual(config.kind.name, "CloudRunApp")
        XCTAssertEqual(config.platform, "prod")
        XCTAssertEqual(config.stages.map(\.name), ["CLOUDRUN_PROMOTE"])
        XCTAssertEqual(config.stages[0].skipOn, SkipOn(commitMessagePrefixes: ["[docs]"], paths: ["docs/**"]))
        XCTAssertEqual(config.warnings.map { $0.text(file: "f.yaml") }, [
            "f.yaml line 7: spec.pipeline.stages[0].skipOn is honoured only for ANALYSIS, SCRIPT_RUN, WAIT, WAIT_APPROVAL "
                + "and is ignored",
            "f.yaml line 13: spec.plugins.cloudrun.variables is not implemented by Gantry and is ignored",
        ])

        func problem(_ plugins: String) -> String? {
            do { _ = try AppConfigParser.parse("apiVersion: pipecd.dev/v1beta1\nkind: Application\nspec:\n  plugins: \(plugins)\n",
                                               kinds: Self.kinds); return nil } catch {
                return (error as? ConfigProblem)?.text(file: "f.yaml") ?? "\(error)"
            }
        }
        XCTAssertEqual(problem("{terraform: {}}"), "f.yaml line 4: spec.plugins names no plugin a function deploys "
                       + "(it names: terraform; the functions' plugins: cloudrun)")
        XCTAssertEqual(problem("{cloudrun: {deployTargets: [a, b]}}"),
                       "f.yaml line 4: spec.plugins.cloudrun.deployTargets names 2 platforms; Gantry deploys an application to one")
    }

    func testGantryAppMayOmitKindAndSpec() throws {
        let config = try XCTUnwrap(AppConfigParser.parse("apiVersion: gantry.dev/v1\n", kinds: Self.kinds))
        XCTAssertEqual(config.kind, .generic)
        XCTAssertNil(config.name)
        XCTAssertTrue(config.autoRollback)
        XCTAssertEqual(config.timeoutSeconds, 6 * 3600)
    }

    func testProblemsNameTheFieldAndLine() {
        func problem(_ yaml: String, strict: Bool = true) -> String? {
            do { _ = try AppConfigParser.parse(yaml, kinds: Self.kinds, strictKind: strict); return nil } catch {
                return (error as? ConfigProblem)?.text(file: "f.yaml") ?? "\(error)"
            }
        }
        XCTAssertEqual(problem("apiVersion: pipecd.dev/v1beta1\nkind: Piped\n"),
                       "f.yaml line 2: kind Piped is not supported (expected Application or one of the functions' appKinds: CloudRunApp, ECSApp)")
        XCTAssertEqual(problem("apiVersion: gantry.dev/v1\nkind: TerraformApp\n"),
                       "f.yaml line 2: kind TerraformApp is not an application kind any function deploys "
                       + "(expected App or one of the functions' appKinds: CloudRunApp, ECSApp)")
        XCTAssertEqual(problem("kind: App\n"),
                       "f.yaml line 1: apiVersion is missing (expected gantry.dev/v1 or pipecd.dev/v1beta1)")
        XCTAssertEqual(problem("apiVersion: gantry.dev/v1\nspec:\n  timeout: soon\n"),
                       "f.yaml line 3: spec.timeout: invalid duration \"soon\" (expected e.g. 10s, 5m, 1h30m)")
        XCTAssertEqual(problem("apiVersion: gantry.dev/v1\nspec:\n  planner:\n    alwaysUsePipeline: sometimes\n"),
                       "f.yaml line 4: spec.planner.alwaysUsePipeline must be true or false, not \"sometimes\"")
        XCTAssertEqual(problem("apiVersion: gantry.dev/v1\nspec:\n  pipeline:\n    stages:\n      - with: {a: 1}\n"),
                       "f.yaml line 5: spec.pipeline.stages[0].name is missing")
        XCTAssertEqual(problem("apiVersion: gantry.dev/v1\nspec:\n  commitMatcher:\n    quickSync: \"(\"\n"),
                       "f.yaml line 4: spec.commitMatcher.quickSync is not a valid regular expression: (")
        XCTAssertEqual(problem("apiVersion: gantry.dev/v1\nspec: [1]\n"), "f.yaml line 2: spec must be a mapping, not a list")
        XCTAssertEqual(problem(""), "f.yaml: the file is empty")
        XCTAssertEqual(problem("apiVersion: gantry.dev/v1\nspec:\n  name: a\n  name: b\n")?.hasPrefix("f.yaml line 3: duplicate key"), true)
        // *.pipecd.yaml may hold other PipeCD configs: not an error, just not an app.
        XCTAssertNil(problem("apiVersion: pipecd.dev/v1beta1\nkind: AnalysisTemplate\n", strict: false))
    }

    func testTheBuiltinFunctionsDeclareTheKindsTheyDeploy() throws {
        let kinds = try BuiltinFunctions.platformFunctions().appKinds
        XCTAssertEqual(kinds.platformKinds.map(\.name).sorted(), ["KubernetesApp", "LambdaApp"])
        let kubernetes = try XCTUnwrap(kinds.platformKinds.first { $0.name == "KubernetesApp" })
        XCTAssertEqual(kubernetes, AppKind(name: "KubernetesApp", platformKind: "kubernetes", syncStage: "K8S_SYNC",
                                           function: "kubernetes", determinesStrategy: true, plugin: "kubernetes",
                                           configKeys: ["input", "quickSync", "service", "workloads", "variantLabel",
                                                        "trafficRouting"]))
        let lambda = try XCTUnwrap(AppConfigParser.parse("apiVersion: pipecd.dev/v1beta1\nkind: LambdaApp\n", kinds: kinds))
        XCTAssertEqual(lambda.kind.syncStage, "LAMBDA_SYNC")
        XCTAssertFalse(lambda.kind.determinesStrategy)
    }

    func testGlobs() {
        XCTAssertTrue(PathGlob("*.md").matches("README.md"))
        XCTAssertTrue(PathGlob("*.md").matches("apps/web/docs/guide.md"), "a pattern without / matches at any depth")
        XCTAssertFalse(PathGlob("*.md").matches("apps/web/main.go"))
        XCTAssertTrue(PathGlob("config/").matches("config/app.yaml"))
        XCTAssertTrue(PathGlob("config").matches("deep/config/app.yaml"))
        XCTAssertTrue(PathGlob("shared/**").matches("shared/a/b/c.txt"))
        XCTAssertTrue(PathGlob("/shared/lib").matches("shared/lib/x.go"))
        XCTAssertFalse(PathGlob("shared/lib").matches("other/shared/lib/x.go"), "a pattern with / is anchored")
        XCTAssertTrue(PathGlob("**/values.yaml").matches("a/b/values.yaml"))
        XCTAssertTrue(PathGlob("a/**/z.txt").matches("a/z.txt"))
        XCTAssertTrue(PathGlob("a/*/z.txt").matches("a/b/z.txt"))
        XCTAssertFalse(PathGlob("a/*/z.txt").matches("a/b/c/z.txt"))
        XCTAssertTrue(PathGlob("v?.txt").matches("v1.txt"))
        XCTAssertTrue(PathGlob("docs/**").matches("apps/web/docs/x.md", appDirectory: "apps/web"), "relative to the app too")
        XCTAssertFalse(PathGlob("").matches("anything"))
    }

    func testTouchRule() {
        let rule = TouchRule(directory: "apps/web", onCommit: OnCommitTrigger(paths: ["lib/"], ignores: ["*.md"]))
        XCTAssertTrue(rule.isTouched(by: ["apps/web/main.go"]))
        XCTAssertTrue(rule.isTouched(by: ["lib/util.go"]))
        XCTAssertFalse(rule.isTouched(by: ["apps/web/README.md", "lib/NOTES.md", "other/x.go"]))
        XCTAssertFalse(rule.isTouched(by: ["apps/webapp/main.go"]), "a sibling with a longer name is not under the app")
        XCTAssertTrue(TouchRule(directory: "", onCommit: OnCommitTrigger()).isTouched(by: ["anything"]))
    }

    func testScriptRunWithoutOnRollbackGetsNoRollbackStage() {
        var config = AppConfig(apiVersion: "gantry.dev/v1", kind: Self.kinds.platformKinds[1])
        config.stages = [StageConfig(name: "SCRIPT_RUN", with: .object(["run": .string("true")])),
                         StageConfig(name: "SCRIPT_RUN", with: .object(["run": .string("a"), "onRollback": .string("b")]))]
        let stages = StagePlan.stages(deploymentID: "d", config: config, strategy: .pipeline)
        XCTAssertEqual(stages.map(\.name), ["SCRIPT_RUN", "SCRIPT_RUN", "ROLLBACK", "SCRIPT_RUN_ROLLBACK"])
        XCTAssertEqual(stages.map(\.index), [0, 1, 2, 3])
        XCTAssertEqual(stages[3].rollbackOf, 1)
        let quick = StagePlan.stages(deploymentID: "d", config: config, strategy: .quickSync)
        XCTAssertEqual(quick.map(\.name), ["ECS_SYNC", "ROLLBACK"], "no script ran, so none is rolled back")
    }
}

/// The git helper itself: failures name the command and what git said; a hung git is stopped.
final class GitRunnerTests: XCTestCase {
    func testFailureNamesTheCommandAndStderr() async throws {
        do {
            try await GitRunner().check(["rev-parse", "--verify", "no-such-ref"])
            XCTFail("expected a GitError")
        } catch let error as GitError {
            XCTAssertEqual(error.command, "git rev-parse --verify no-such-ref")
            XCTAssertTrue(error.description.hasPrefix("git rev-parse --verify no-such-ref failed (exit 128): fatal:"),
                          error.description)
        }
    }

    func testHungGitIsStoppedAtItsTimeout() async throws {
        // The ext transport runs `sleep` as the remote: git waits on it like on a server that never answers.
        let started = Date()
        let result = try await GitRunner().run(["-c", "protocol.ext.allow=always", "ls-remote", "ext::sleep 3"],
                                               timeout: 0.3)
        XCTAssertTrue(result.timedOut)
        // Well before the 2 s escalation to SIGKILL: git honoured the SIGTERM (it is not blocked in the child).
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.5)
    }
}
