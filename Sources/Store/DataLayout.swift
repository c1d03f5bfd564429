/// Where things live under the server's data directory. One place, because the planner writes sources that the
/// engine hands to functions, and recovery must find both after a crash.
public enum DataLayout {
    public static func database(_ dataDir: String) -> String { dataDir + "/gantry.sqlite" }
    public static func mirror(_ dataDir: String, repository: String) -> String { dataDir + "/mirrors/\(repository).git" }
    public static func deploymentDir(_ dataDir: String, deploymentID: String) -> String { dataDir + "/deployments/\(deploymentID)" }
    /// The application's directory at the deployment's commit.
    public static func targetSources(_ dataDir: String, deploymentID: String) -> String {
        deploymentDir(dataDir, deploymentID: deploymentID) + "/target"
    }
    /// The application's directory at the commit that was running when the deployment was planned.
    public static func runningSources(_ dataDir: String, deploymentID: String) -> String {
        deploymentDir(dataDir, deploymentID: deploymentID) + "/running"
    }
    /// The repository's shared config folders (`.pipe/`, `.gantry/` at its root) at the deployment's commit; absent
    /// when the repository has neither.
    public static func sharedSources(_ dataDir: String, deploymentID: String) -> String {
        deploymentDir(dataDir, deploymentID: deploymentID) + "/shared"
    }
    public static func invocationsDir(_ dataDir: String, deploymentID: String) -> String {
        dataDir + "/invocations/\(deploymentID)"
    }
    /// A directory a function keeps between its invocations (`$GANTRY_CACHE`): what is slow to learn again, such
    /// as kubectl's API discovery. Anything in it may vanish at any time; nothing in it is a checkpoint.
    public static func functionCache(_ dataDir: String, function: String) -> String { dataDir + "/cache/\(function)" }
    /// The working directory of the planning invocation, which asks a platform's function how to deploy.
    public static func planningInvocationDir(_ dataDir: String, deploymentID: String) -> String {
        invocationsDir(dataDir, deploymentID: deploymentID) + "/plan"
    }
    /// A fresh working directory per attempt.
    public static func invocationDir(_ dataDir: String, deploymentID: String, stage: Int, attempt: Int) -> String {
        invocationsDir(dataDir, deploymentID: deploymentID) + "/\(stage)-\(attempt)"
    }
}
