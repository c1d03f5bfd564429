import Foundation
import FunctionKit
import XCTest

final class WaitApprovalFunctionTests: XCTestCase {
    private let fn = "gantry-fn-wait-approval"

    private func invoke(approvers: [String]? = nil, min: Int? = nil, timeout: String? = nil, approvedBy: [String] = [],
                        checkpoint: JSONValue? = nil) throws -> FunctionProcess.Run {
        var with: [String: JSONValue] = [:]
        if let approvers { with["approvers"] = .array(approvers.map { .string($0) }) }
        if let min { with["minApproverNum"] = .number(Double(min)) }
        if let timeout { with["timeout"] = .string(timeout) }
        let approvals = approvedBy.map { FunctionEvent.ApprovalInfo(by: $0, at: RFC3339.format(Date())) }
        return try FunctionProcess.run(fn, event: TestEvent.make(stage: "WAIT_APPROVAL", with: .object(with),
                                                                 checkpoint: checkpoint, approvals: approvals))
    }

    func testWithoutApprovalsItCheckpointsAndSuspendsWaitingForApproval() throws {
        let run = try invoke(approvers: ["alice", "bob"], min: 2)
        guard case .checkpoint(let checkpoint, _)? = run.messages.first else {
            return XCTFail("the first line must be the checkpoint: \(run.stdoutLines)")
        }
        let startedAt = try date(checkpoint["startedAt"]?.string)
        let result = try XCTUnwrap(run.result)
        XCTAssertEqual(result.status, .suspended)
        XCTAssertEqual(result.waitingFor, "approval")
        XCTAssertEqual(result.message, "waiting for 2 more approvals (from: alice, bob)")
        XCTAssertEqual(try date(result.resumeAt).timeIntervalSince(startedAt), 6 * 3600, accuracy: 0.001,
                       "the default timeout is 6h from the start")
        XCTAssertTrue(run.stderr.contains("waiting for 2 more approvals"), "stderr: \(run.stderr)")
    }

    func testTwoDistinctApprovalsSatisfyAMinimumOfTwo() throws {
        let run = try invoke(approvers: ["alice", "bob"], min: 2, approvedBy: ["bob", "alice"],
                             checkpoint: TestEvent.startedAt(secondsAgo: 60))
        XCTAssertEqual(run.result, FunctionResult(status: .succeeded, message: "approved by bob, alice"))
    }

    func testTheSameApproverTwiceCountsOnce() throws {
        let run = try invoke(approvers: ["alice", "bob"], min: 2, approvedBy: ["alice", "alice"],
                             checkpoint: TestEvent.startedAt(secondsAgo: 60))
        XCTAssertEqual(run.result?.status, .suspended)
        XCTAssertEqual(run.result?.message, "waiting for 1 more approval (from: bob)")
    }

    func testAnApproverOutsideTheListIsIgnored() throws {
        let run = try invoke(approvers: ["alice", "bob"], approvedBy: ["mallory"],
                             checkpoint: TestEvent.startedAt(secondsAgo: 60))
        XCTAssertEqual(run.result?.status, .suspended, "\(run.stdoutLines)")
        XCTAssertEqual(run.result?.message, "waiting for 1 more approval (from: alice, bob)")

        let anyone = try invoke(approvedBy: ["mallory"], checkpoint: TestEvent.startedAt(secondsAgo: 60))
        XCTAssertEqual(anyone.result, FunctionResult(status: .succeeded, message: "approved by mallory"),
                       "with no approvers listed anyone may approve")
    }

    func testResumedStageKeepsItsOriginalDeadline() throws {
        let checkpoint = TestEvent.startedAt(secondsAgo: 600)
        let run = try invoke(timeout: "1h", checkpoint: checkpoint)
        XCTAssertTrue(run.checkpoints.isEmpty, "\(run.stdoutLines)")
        XCTAssertEqual(try date(run.result?.resumeAt).timeIntervalSince(try date(checkpoint["startedAt"]?.string)),
                       3600, accuracy: 0.001)
    }

    func testNoApprovalWithinTheTimeoutFails() throws {
        let run = try invoke(approvers: ["alice", "bob"], min: 2, timeout: "1h", approvedBy: ["alice"],
                             checkpoint: TestEvent.startedAt(secondsAgo: 2 * 3600))
        XCTAssertEqual(run.result, FunctionResult(status: .failed, message: "no approval within 1h (1 of 2 approvals)"))
    }

    func testMoreRequiredApprovalsThanListedApproversIsAConfigError() throws {
        let run = try invoke(approvers: ["alice"], min: 2)
        XCTAssertEqual(run.result?.status, .failed)
        XCTAssertTrue(run.result?.message?.contains("minApproverNum") == true, "\(run.stdoutLines)")
    }
}
