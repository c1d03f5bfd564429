import Foundation
import FunctionKit
import Store

/// Turns store records into the plain dictionaries the templates read. Everything shown is formatted here, so
/// templates hold no logic beyond sections.
enum PageModels {
    /// PipeCD's sync states, read from what Gantry knows: the config, the last deployment, the running commit.
    static func syncState(_ app: Application, last: Deployment?) -> (String, String) {
        if app.configError != nil { return ("INVALID_CONFIG", "state-invalid") }
        if let last, !last.status.isFinal { return ("DEPLOYING", "state-deploying") }
        if let last, last.status == .failure { return ("FAILED", "state-failed") }
        if app.runningCommit != nil && app.runningCommit == app.lastTriggeredCommit { return ("SYNCED", "state-synced") }
        if app.runningCommit == nil && last == nil { return ("UNKNOWN", "state-out-of-sync") }
        return ("OUT_OF_SYNC", "state-out-of-sync")
    }

    static func application(_ app: Application, last: Deployment?) -> [String: Any] {
        let (state, cls) = syncState(app, last: last)
        var out: [String: Any] = ["name": app.name, "repository": app.repository, "configFile": app.configFile,
                                  "kind": app.kind, "state": state, "stateClass": cls,
                                  "runningCommit": Show.commit(app.runningCommit)]
        if let e = app.configError { out["configError"] = e }
        if let p = app.platform { out["platform"] = p }
        if !app.labels.isEmpty { out["labels"] = app.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") }
        if let last {
            out["last"] = ["id": last.id, "status": last.status.rawValue, "commit": Show.commit(last.commit),
                           "when": Show.time(last.completedAt ?? last.startedAt ?? last.createdAt)] as [String: Any]
        }
        return out
    }

    static func historyRow(_ d: Deployment) -> [String: Any] {
        ["id": d.id, "shortID": String(d.id.prefix(8)), "status": d.status.rawValue, "commit": Show.commit(d.commit),
         "message": firstLine(d.commitMessage), "trigger": d.triggerKind.rawValue, "author": d.author,
         "created": Show.time(d.createdAt),
         "duration": d.startedAt.map { Show.duration((d.completedAt ?? Date()).timeIntervalSince($0)) } ?? ""]
    }

    /// The deployment header and its stage graph; `user` decides which buttons exist at all.
    static func pipeline(_ detail: DeploymentDetail, approvals: [Int: [String]], user: Identity) -> [String: Any] {
        let d = detail.deployment
        let canEdit = user.role >= .editor
        func stage(_ s: Stage) -> [String: Any] {
            var out: [String: Any] = ["index": s.index, "name": s.name, "status": s.status.rawValue, "attempts": s.attempt]
            if let start = s.startedAt {
                out["duration"] = Show.duration((s.status.isFinal ? (s.completedAt ?? Date()) : Date()).timeIntervalSince(start))
            }
            if s.status == .suspended, let w = s.waitingFor {
                out["waiting"] = w + (s.resumeAt.map { " (until \(Show.time($0)))" } ?? "")
            } else if s.status == .suspended, let at = s.resumeAt {
                out["waiting"] = "time (until \(Show.time(at)))"
            }
            if !s.message.isEmpty { out["stageMessage"] = s.message }
            // The stage's own message says "approved by" once it finished; before that the list shows who did.
            if let by = approvals[s.index], !by.isEmpty, !s.message.contains("approved by") {
                out["approvedBy"] = by.joined(separator: ", ")
            }
            out["approve"] = canEdit && d.status == .running && s.name == "WAIT_APPROVAL" && s.status == .suspended
                && DeploymentActions.mayApprove(s, user.name)
            out["skip"] = canEdit && DeploymentActions.canSkip(s, of: d)
            return out
        }
        let rollback = detail.stages.filter(\.rollback).map(stage)
        var out: [String: Any] = [
            "id": d.id, "application": d.application, "status": d.status.rawValue, "commit": Show.commit(d.commit),
            "message": firstLine(d.commitMessage), "trigger": d.triggerKind.rawValue, "author": d.author,
            "strategy": d.strategy.rawValue, "summary": d.summary,
            "canCancel": canEdit && !d.status.isFinal && !d.cancelRequested,
            "forward": detail.stages.filter { !$0.rollback }.map(stage),
            "hasRollback": !rollback.isEmpty, "rollbackStages": rollback,
            "csrf": user.csrf ?? "",
        ]
        if !d.statusReason.isEmpty { out["statusReason"] = d.statusReason }
        return out
    }

    static func firstLine(_ text: String) -> String {
        String(text.split(separator: "\n", maxSplits: 1).first ?? "")
    }
}
