import Analysis
import XCTest

/// The U test behind PipeCD's comparing strategies.
final class MannWhitneyTests: XCTestCase {
    func testExactPValuesOfSmallSamples() throws {
        // Three below three: one ordering in C(6,3) = 20 is this extreme.
        XCTAssertEqual(try XCTUnwrap(MannWhitney.pValue([1, 2, 3], [4, 5, 6], alternative: .less)), 0.05, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(MannWhitney.pValue([1, 2, 3], [4, 5, 6], alternative: .greater)), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(MannWhitney.pValue([1, 2, 3], [4, 5, 6], alternative: .differs)), 0.1, accuracy: 1e-12)
        let higher = Array(stride(from: 10.0, to: 20, by: 1)), lower = Array(stride(from: 0.0, to: 10, by: 1))
        XCTAssertEqual(try XCTUnwrap(MannWhitney.pValue(higher, lower, alternative: .greater)), 1.0 / 184_756, accuracy: 1e-15)
    }

    func testTiesUseTheNormalApproximationAndIdenticalSamplesHaveNoPValue() throws {
        XCTAssertNil(MannWhitney.pValue([1, 1, 1], [1, 1], alternative: .differs))
        let p = try XCTUnwrap(MannWhitney.pValue([5, 5, 6, 7, 7, 8, 9, 9], [1, 1, 2, 3, 3, 4, 5, 5], alternative: .greater))
        XCTAssertLessThan(p, 0.01)
        let q = try XCTUnwrap(MannWhitney.pValue([1, 2, 2, 3], [2, 3, 3, 1], alternative: .differs))
        XCTAssertGreaterThan(q, 0.5)
    }

    func testDeviationDecidesWhichDirectionFails() {
        let canary: [Double] = [10, 11, 12, 13, 14, 15], baseline: [Double] = [1, 2, 3, 4, 5, 6]
        XCTAssertFalse(MannWhitney.acceptable(experiment: canary, control: baseline, deviation: .high).ok)
        XCTAssertTrue(MannWhitney.acceptable(experiment: canary, control: baseline, deviation: .low).ok)
        XCTAssertFalse(MannWhitney.acceptable(experiment: canary, control: baseline, deviation: .either).ok)
        XCTAssertTrue(MannWhitney.acceptable(experiment: [3, 3], control: [3, 3], deviation: .either).ok)
    }
}
