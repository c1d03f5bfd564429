import Accounts
import Foundation
import FunctionKit
import Store

/// What a page template reads. The templates look values up by property name (swift-mustache reflects these
/// structs); everything shown is formatted here, so templates hold no logic beyond sections. A nil property is
/// not there for the template, as a missing key would be.
protocol PageModel: Sendable {
    /// The session's form token, for the forms the page holds.
    var csrf: String { get set }
}

/// One application's row (the applications page, its live rows) and the application page's header.
struct ApplicationModel: Sendable {
    struct Last: Sendable { var id: String; var status: String; var commit: String; var when: String }
    var name: String
    var repository: String
    var configFile: String
    var kind: String
    var state: String
    var stateClass: String
    var runningCommit: String
    var configError: String?
    var platform: String?
    var labels: String?
    var configWarnings: [String]
    var last: Last?

    init(_ app: Application, last: Deployment?) {
        let (state, cls) = ApplicationModel.syncState(app, last: last)
        name = app.name; repository = app.repository; configFile = app.configFile; kind = app.kind
        self.state = state; stateClass = cls; runningCommit = Show.commit(app.runningCommit)
        configError = app.configError; platform = app.platform; configWarnings = app.configWarnings
        labels = app.labels.isEmpty ? nil : app.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        self.last = last.map {
            Last(id: $0.id, status: $0.status.rawValue, commit: Show.commit($0.commit),
                 when: Show.time($0.completedAt ?? $0.startedAt ?? $0.createdAt))
        }
    }

    /// PipeCD's sync states, read from what Gantry knows: the config, the last deployment, the running commit.
    static func syncState(_ app: Application, last: Deployment?) -> (String, String) {
        if app.configError != nil { return ("INVALID_CONFIG", "state-invalid") }
        if let last, !last.status.isFinal { return ("DEPLOYING", "state-deploying") }
        if let last, last.status == .failure { return ("FAILED", "state-failed") }
        if app.runningCommit != nil && app.runningCommit == app.lastTriggeredCommit { return ("SYNCED", "state-synced") }
        if app.runningCommit == nil && last == nil { return ("UNKNOWN", "state-out-of-sync") }
        return ("OUT_OF_SYNC", "state-out-of-sync")
    }
}

struct ApplicationsPage: PageModel {
    var apps: [ApplicationModel]
    var csrf = ""
}

struct ApplicationPage: PageModel {
    struct HistoryRow: Sendable {
        var id, shortID, status, commit, message, trigger, author, created, duration: String
        init(_ d: Deployment) {
            id = d.id; shortID = String(d.id.prefix(8)); status = d.status.rawValue; commit = Show.commit(d.commit)
            message = Show.firstLine(d.commitMessage); trigger = d.triggerKind.rawValue; author = d.author
            created = Show.time(d.createdAt)
            duration = d.startedAt.map { Show.duration((d.completedAt ?? Date()).timeIntervalSince($0)) } ?? ""
        }
    }
    var name, kind, repository, configFile: String
    var platform, labels, configError: String?
    var configWarnings: [String]
    var canEdit: Bool
    var history: [HistoryRow]
    var csrf = ""

    init(_ app: ApplicationModel, history: [Deployment], canEdit: Bool) {
        name = app.name; kind = app.kind; repository = app.repository; configFile = app.configFile
        platform = app.platform; labels = app.labels; configError = app.configError; configWarnings = app.configWarnings
        self.canEdit = canEdit; self.history = history.map(HistoryRow.init)
    }
}

/// The deployment header and its stage graph; the principal decides which buttons exist at all.
struct PipelineModel: PageModel {
    struct StageModel: Sendable {
        var index: Int
        var name, status: String
        var attempts: Int
        var duration, waiting, stageMessage, approvedBy: String?
        var approve, skip: Bool
    }
    var id, application, status, commit, message, trigger, author, strategy, summary: String
    var statusReason: String?
    var canCancel: Bool
    var forward: [StageModel]
    var hasRollback: Bool
    var rollbackStages: [StageModel]
    var csrf: String

    init(_ detail: DeploymentDetail, approvals: [Int: [String]], user: Principal) {
        let d = detail.deployment
        let canEdit = user.role >= .editor
        func stage(_ s: Stage) -> StageModel {
            var out = StageModel(index: s.index, name: s.name, status: s.status.rawValue, attempts: s.attempt,
                                 approve: false, skip: false)
            if let start = s.startedAt {
                out.duration = Show.duration((s.status.isFinal ? (s.completedAt ?? Date()) : Date()).timeIntervalSince(start))
            }
            if s.status == .suspended, let w = s.waitingFor {
                out.waiting = w + (s.resumeAt.map { " (until \(Show.time($0)))" } ?? "")
            } else if s.status == .suspended, let at = s.resumeAt {
                out.waiting = "time (until \(Show.time(at)))"
            }
            if !s.message.isEmpty { out.stageMessage = s.message }
            // The stage's own message says "approved by" once it finished; before that the list shows who did.
            if let by = approvals[s.index], !by.isEmpty, !s.message.contains("approved by") {
                out.approvedBy = by.joined(separator: ", ")
            }
            out.approve = canEdit && d.status == .running && s.name == "WAIT_APPROVAL" && s.status == .suspended
                && DeploymentActions.mayApprove(s, user.name)
            out.skip = canEdit && DeploymentActions.canSkip(s, of: d)
            return out
        }
        id = d.id; application = d.application; status = d.status.rawValue; commit = Show.commit(d.commit)
        message = Show.firstLine(d.commitMessage); trigger = d.triggerKind.rawValue; author = d.author
        strategy = d.strategy.rawValue; summary = d.summary
        statusReason = d.statusReason.isEmpty ? nil : d.statusReason
        canCancel = canEdit && !d.status.isFinal && !d.cancelRequested
        forward = detail.stages.filter { !$0.rollback }.map(stage)
        rollbackStages = detail.stages.filter(\.rollback).map(stage)
        hasRollback = !rollbackStages.isEmpty
        csrf = user.csrf ?? ""
    }
}

struct DeploymentPage: PageModel {
    struct LogStage: Sendable { var index: Int; var name: String; var logText: String }
    var id: String
    var pipeline: PipelineModel
    var lastLogID: Int64
    var stages: [LogStage]
    var csrf = ""
}

struct DeliveriesPage: PageModel {
    struct Binding: Sendable { var binding: String; var deliveries: [Row] }
    struct Row: Sendable { var received, event, verdict, reason, deliveryID: String; var recorded: Bool }
    var bindings: [Binding]
    var csrf = ""
}

struct TokensPage: PageModel {
    struct Created: Sendable { var name: String; var secret: String }
    struct Token: Sendable {
        var tokenID: Int64
        var name, owner, role, created, state: String
        var active: Bool
    }
    var roles: [String]
    var tokens: [Token]
    var created: Created?
    var csrf = ""
}

struct UsersPage: PageModel {
    struct User: Sendable { var name, role, source: String; var deletable: Bool }
    var users: [User]
    var csrf = ""
}

struct LoginPage: PageModel {
    var next: String
    var noUsers: Bool
    var csrf: String
}

struct InsightsPage: PageModel {
    struct Choice: Sendable { var name: String; var selected: Bool }
    struct Period: Sendable { var value: String; var selected: Bool }
    struct Chart: Sendable { var title, summary, explain, svg: String }
    var applications: [Choice]
    var label: String
    var periods: [Period]
    var from, to: String
    var deployments: Int
    var apiURL: String
    var charts: [Chart]
    var csrf = ""
}

struct MessagePage: PageModel {
    var heading: String
    var text: String?
    var back: String
    var csrf = ""
}

/// The page around every page: title, the signed-in user's menu, a notice or an error.
struct LayoutModel: Sendable {
    struct User: Sendable { var name, role: String; var isAdmin: Bool; var csrf: String }
    var title: String
    var content: String
    var user: User?
    var notice: String?
    var error: String?
}
