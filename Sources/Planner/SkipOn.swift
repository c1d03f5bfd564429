import RepositoryYAML

/// PipeCD's `skipOn` of WAIT, WAIT_APPROVAL, ANALYSIS and SCRIPT_RUN: the stage is skipped when the deployed commit's
/// message starts with one of `commitMessagePrefixes`, or when every file changed since the running commit matches
/// one of `paths`. Decided when the deployment is planned, so the stage shows as skipped, with the reason, from the
/// start and never runs.
struct SkipOn: Sendable, Equatable {
    var commitMessagePrefixes: [String] = []
    var paths: [String] = []

    static let stages: Set<String> = ["WAIT", "WAIT_APPROVAL", "ANALYSIS", "SCRIPT_RUN"]

    /// `skipOn` beside `with` (PipeCD v1) or inside it (PipeCD v0); `commitMessagePrefix` (one) is read too.
    static func read(stage: YAMLField) throws -> SkipOn? {
        var field = try stage.field("skipOn")
        if field.isMissing { field = try stage.field("with").field("skipOn") }
        guard !field.isMissing else { return nil }
        let map = try field.mapping()
        guard map.node?.mapping != nil else { throw field.mustBe("a mapping") }
        var skip = SkipOn()
        skip.commitMessagePrefixes = try map.field("commitMessagePrefixes").stringList()
        if let one = try map.field("commitMessagePrefix").string() { skip.commitMessagePrefixes.append(one) }
        skip.paths = try map.field("paths").stringList()
        skip.commitMessagePrefixes.removeAll(where: \.isEmpty)
        return skip
    }

    var needsChangedFiles: Bool { !paths.isEmpty }

    /// Why the stage is skipped, or nil when it runs. `changedFiles` is nil when there is no running commit to
    /// compare with (a first deployment changes everything, so `paths` never skips it).
    func reason(commitMessage: String, changedFiles: [String]?, appDirectory: String) -> String? {
        if let prefix = commitMessagePrefixes.first(where: { commitMessage.hasPrefix($0) }) {
            return "skipped: the commit message starts with \"\(prefix)\" (skipOn.commitMessagePrefixes)"
        }
        let globs = paths.map(PathGlob.init)
        if let changed = changedFiles, !changed.isEmpty, !globs.isEmpty,
           changed.allSatisfy({ file in globs.contains { $0.matches(file, appDirectory: appDirectory) } }) {
            return "skipped: every file changed since the running commit matches skipOn.paths"
        }
        return nil
    }
}
