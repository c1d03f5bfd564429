import Foundation
import Planner
import Store
import XCTest

/// What the planner decides about a pipeline's stages before anything runs: a stage no function runs is the app's
/// config error at planning, and PipeCD's `skipOn` plans a stage as skipped, with its reason.
final class PlanningChecksTests: XCTestCase {
    private func plan(_ repo: GitFixture, _ store: InMemoryStore, _ planner: Planner, _ message: String) async throws -> PlanOutcome {
        let commit = try repo.commitAndPush(message)
        let id = try await store.addTrigger(pushTrigger(commit, message: message))
        _ = try await planner.planPending()
        let outcome = try await unwrapped(store.outcome(trigger: id))
        for detail in outcome.deployments { await store.setRunningCommit(detail.deployment.application, commit) }
        return outcome
    }

    func testAMisspeltStageFailsAtPlanningNamingTheStagesThatExistAndTheOtherAppsDeploy() async throws {
        let repo = try GitFixture()
        try repo.write("typo/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              pipeline:
                stages:
                  - name: WAIT
                    with: {duration: 1s}
                  - name: WIAT_APPROVAL
            """)
        try repo.write("fine/app.gantry.yaml", "apiVersion: gantry.dev/v1\nspec:\n  pipeline:\n    stages: [{name: WAIT}]\n")
        let store = InMemoryStore()
        let outcome = try await plan(repo, store, try repo.planner(store: store), "two apps")

        XCTAssertEqual(outcome.deployments.map(\.deployment.application), ["fine"])
        let typo = try XCTUnwrap(outcome.applications.first { $0.name == "typo" })
        XCTAssertEqual(typo.configError, "typo/app.gantry.yaml line 7: spec.pipeline.stages[1]: no function runs stage "
                       + "WIAT_APPROVAL for an App without platform (the stages that exist: ANALYSIS, SCRIPT_RUN, "
                       + "SCRIPT_RUN_ROLLBACK, WAIT, WAIT_APPROVAL)")
        XCTAssertTrue(outcome.note.contains("WIAT_APPROVAL"), outcome.note)

        // Fixed in the next commit: the error is gone and the app deploys.
        try repo.write("typo/app.gantry.yaml", "apiVersion: gantry.dev/v1\nspec:\n  pipeline:\n    stages: [{name: WAIT_APPROVAL}]\n")
        let fixed = try await plan(repo, store, try repo.planner(store: store), "fix the typo")
        XCTAssertEqual(fixed.deployments.map(\.deployment.application), ["typo"])
        XCTAssertNil(fixed.applications.first { $0.name == "typo" }?.configError)
    }

    func testSkipOnByCommitMessagePrefixAndByPaths() async throws {
        let repo = try GitFixture()
        try repo.write("web/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              notification: {mentions: []}
              pipeline:
                stages:
                  - name: WAIT_APPROVAL
                    skipOn: {commitMessagePrefixes: ["[hotfix]"]}
                  - name: SCRIPT_RUN
                    with:
                      run: ./smoke.sh
                      skipOn: {paths: ["docs/**", "*.md"]}
                  - name: WAIT
                    with: {duration: 1s}
            """)
        try repo.write("web/main.txt", "v1")
        let store = InMemoryStore()
        let planner = try repo.planner(store: store)

        let hotfix = try await plan(repo, store, planner, "[hotfix] the first one")
        let first = try XCTUnwrap(hotfix.deployments.first)
        XCTAssertEqual(first.stages.map(\.status), [.skipped, .notStarted, .notStarted],
                       "paths never skip a first deployment: there is nothing to compare with")
        XCTAssertEqual(first.stages[0].message, "skipped: the commit message starts with \"[hotfix]\" (skipOn.commitMessagePrefixes)")
        XCTAssertEqual(hotfix.applications.first?.configWarnings,
                       ["web/app.gantry.yaml line 3: spec.notification is not implemented by Gantry and is ignored"])

        try repo.write("web/docs/guide.md", "how to")
        try repo.write("web/README.md", "read me")
        let docsOutcome = try await plan(repo, store, planner, "docs only")
        let docs = try XCTUnwrap(docsOutcome.deployments.first)
        XCTAssertEqual(docs.stages.map(\.status), [.notStarted, .skipped, .notStarted])
        XCTAssertEqual(docs.stages[1].message, "skipped: every file changed since the running commit matches skipOn.paths")

        try repo.write("web/docs/guide.md", "how to, again")
        try repo.write("web/main.txt", "v2")
        let codeOutcome = try await plan(repo, store, planner, "code and docs")
        let code = try XCTUnwrap(codeOutcome.deployments.first)
        XCTAssertEqual(code.stages.map(\.status), [.notStarted, .notStarted, .notStarted])
    }
}
