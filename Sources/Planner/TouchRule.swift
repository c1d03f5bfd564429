/// Whether a push touched an application, from the files `git diff` says changed (PipeCD's rule, with
/// ignores): a changed file is relevant when it is under the app's directory or matches
/// `onCommit.paths`; the app is touched unless every relevant file matches `onCommit.ignores`.
struct TouchRule: Sendable {
    let directory: String          // "" = repository root: every file is under it
    let paths: [PathGlob]
    let ignores: [PathGlob]

    init(directory: String, onCommit: OnCommitTrigger) {
        self.directory = directory
        paths = onCommit.paths.map(PathGlob.init)
        ignores = onCommit.ignores.map(PathGlob.init)
    }

    func isTouched(by changedFiles: [String]) -> Bool {
        changedFiles.contains { file in
            isRelevant(file) && !ignores.contains { $0.matches(file, appDirectory: directory) }
        }
    }

    private func isRelevant(_ file: String) -> Bool {
        if directory.isEmpty || file.hasPrefix(directory + "/") { return true }
        return paths.contains { $0.matches(file, appDirectory: directory) }
    }
}
