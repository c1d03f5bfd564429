import FunctionKit

/// The stage's `with:` for WAIT_APPROVAL (PipeCD's field names), checked once so mistakes fail clearly.
struct ApprovalPolicy {
    /// Who may approve; empty means anyone.
    let approvers: [String]
    let minApprovers: Int
    let timeout: Double

    static let defaultTimeout = 6.0 * 3600

    init(_ event: FunctionEvent) throws {
        switch event.stage.with["approvers"] {
        case nil, .null?:
            approvers = []
        case .string(let one)?:
            approvers = [one]
        case .array(let list)?:
            var names: [String] = []
            for item in list {
                guard case .string(let name) = item else {
                    throw FunctionFailure("with.approvers must be a list of names, found \(item.encoded())")
                }
                if !names.contains(name) { names.append(name) }
            }
            approvers = names
        case let other?:
            throw FunctionFailure("with.approvers must be a list of names, not \(other.encoded())")
        }
        if let value = event.stage.with["minApproverNum"], !value.isNull {
            guard let n = value.number, n.rounded() == n, n >= 1, n <= 1000 else {
                throw FunctionFailure("with.minApproverNum must be a whole number of at least 1, not \(value.encoded())")
            }
            minApprovers = Int(n)
        } else {
            minApprovers = 1
        }
        if !approvers.isEmpty && minApprovers > approvers.count {
            throw FunctionFailure("with.minApproverNum is \(minApprovers) but with.approvers lists only "
                + "\(approvers.count), so the stage could never be approved")
        }
        timeout = try event.withDuration("timeout", default: Self.defaultTimeout)
    }

    /// Distinct approvers in the order they first approved; an approval from someone not listed in
    /// `approvers` (when that list is non-empty) does not count.
    func countedApprovers(_ approvals: [FunctionEvent.ApprovalInfo]) -> [String] {
        var seen: [String] = []
        for approval in approvals where !seen.contains(approval.by) {
            if approvers.isEmpty || approvers.contains(approval.by) { seen.append(approval.by) }
        }
        return seen
    }
}
