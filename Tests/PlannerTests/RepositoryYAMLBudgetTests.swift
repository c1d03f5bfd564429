import Foundation
import KubeSupport
import RepositoryYAML
import Yams
import XCTest

/// The budgets of repository YAML: counted on libyaml's events with aliases costed as what they expand to, so a
/// small hostile file is refused before anything is built from it.
final class RepositoryYAMLBudgetTests: XCTestCase {
    let small = RepositoryYAML.Budget(maxBytes: 10_000, maxNodes: 1_000, maxDepth: 8)

    func testOrdinaryYAMLWithAnchorsIsComposed() throws {
        let text = "base: &b {a: 1, b: [x, y]}\nfirst: *b\nsecond: *b\n"
        let node = try XCTUnwrap(try RepositoryYAML.compose(text, budget: small))
        XCTAssertEqual(node["second"]?["b"]?[1]?.string, "y")
    }

    func testAnAliasBombIsRefusedAtTheLineThatGoesOver() {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1...6 { lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]") }
        XCTAssertThrowsError(try RepositoryYAML.check(lines.joined(separator: "\n"), budget: small)) { error in
            XCTAssertEqual(error as? RepositoryYAML.OverBudget,
                           RepositoryYAML.OverBudget(line: 3, reason: "more than 1000 YAML nodes once aliases are expanded"))
        }
    }

    func testNestingDeeperThanTheBudgetIsRefusedIncludingThroughAliases() {
        let deep = String(repeating: "[", count: 9) + String(repeating: "]", count: 9)
        XCTAssertThrowsError(try RepositoryYAML.check(deep, budget: small)) { error in
            XCTAssertEqual((error as? RepositoryYAML.OverBudget)?.reason, "lists and mappings nest deeper than 8 levels")
        }
        // Five levels anchored, used five levels down: ten once expanded.
        let viaAlias = "a: &a [[[[[x]]]]]\nb: [[[[*a]]]]\n"
        XCTAssertThrowsError(try RepositoryYAML.check(viaAlias, budget: small)) { error in
            XCTAssertEqual((error as? RepositoryYAML.OverBudget)?.line, 2)
        }
        XCTAssertNoThrow(try RepositoryYAML.check("a: &a [[x]]\nb: [[*a]]\n", budget: small))
    }

    func testAFileOverTheSizeBudgetIsRefusedBeforeParsing() {
        let big = String(repeating: "k: v\n", count: 3_000)
        XCTAssertThrowsError(try RepositoryYAML.check(big, budget: small)) { error in
            XCTAssertEqual((error as? RepositoryYAML.OverBudget)?.reason, "the file has 15000 bytes; the limit is 10000")
        }
    }

    func testSyntaxErrorsAreLeftToTheReaderWithTheirLine() {
        XCTAssertNoThrow(try RepositoryYAML.check("a: [\n", budget: small))
        XCTAssertThrowsError(try RepositoryYAML.compose("a: [\n", budget: small)) { error in
            XCTAssertTrue(error is YamlError, "\(error)")
        }
    }

    /// Random streams of anchors, aliases, nesting and size: every one is either refused by the budget or
    /// composes and walks within it, and the process's peak memory barely moves.
    func testFuzzedAnchorsAliasesAndNestingStayWithinBudgetAndBoundedMemory() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["FUZZ_SEED"] ?? "") ?? UInt64.random(in: 1...UInt64.max)
        print("RepositoryYAML fuzz seed \(seed) (FUZZ_SEED replays it)")
        var random = SplitMix64(seed: seed)
        let budget = RepositoryYAML.Budget(maxBytes: 64 << 10, maxNodes: 20_000, maxDepth: 32)
        let before = HostileRepositoryTests.peakRSSKiB()
        var refused = 0, accepted = 0
        for _ in 0..<300 {
            let text = Self.randomStream(&random)
            do {
                guard let node = try RepositoryYAML.compose(text, budget: budget) else { continue }
                XCTAssertLessThanOrEqual(Self.expandedCount(node, limit: budget.maxNodes + 1), budget.maxNodes, text)
                accepted += 1
            } catch is RepositoryYAML.OverBudget {
                refused += 1
            } catch {
                continue   // invalid YAML: the reader's own error
            }
        }
        XCTAssertGreaterThan(refused, 0, "the generator must reach the budget sometimes")
        XCTAssertGreaterThan(accepted, 0)
        XCTAssertLessThan(HostileRepositoryTests.peakRSSKiB() - before, 128 << 10)
    }

    /// Nodes as a reader sees them (aliases expanded), counted up to `limit`.
    static func expandedCount(_ node: Node, limit: Int) -> Int {
        var count = 0
        var stack = [node]
        while let next = stack.popLast(), count < limit {
            count += 1
            switch next {
            case .mapping(let m): for (k, v) in m { stack.append(k); stack.append(v) }
            case .sequence(let s): stack.append(contentsOf: s)
            default: break
            }
        }
        return count
    }

    static func randomStream(_ random: inout SplitMix64) -> String {
        var lines: [String] = []
        var anchors: [String] = []
        for i in 0..<Int(random.next() % 12 + 1) {
            let width = Int(random.next() % 12 + 1)
            let depth = Int(random.next() % 40)
            var items: [String] = []
            for _ in 0..<width {
                if !anchors.isEmpty, random.next() % 3 != 0 {
                    items.append("*" + anchors[Int(random.next() % UInt64(anchors.count))])
                } else {
                    items.append(String(repeating: "z", count: Int(random.next() % 30)))
                }
            }
            let body = String(repeating: "[", count: depth) + items.joined(separator: ", ") + String(repeating: "]", count: depth)
            lines.append("k\(i): &n\(i) [\(body)]")
            anchors.append("n\(i)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
