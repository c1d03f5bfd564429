import Foundation

/// Where the parts that ship beside the `gantry` binary are: the supervisor, the built-in function
/// executables (same directory), and the built-in `functions/` folders with their function.yaml.
public enum Locations {
    public static var executableDirectory: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }

    public static var supervisor: String { executableDirectory + "/gantry-supervise" }

    /// `$GANTRY_BUILTIN_FUNCTIONS`, an installed `share/gantry/functions`, or the source tree's `functions/`
    /// when running from `.build/<config>/`.
    public static func builtinFunctions(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let exe = executableDirectory
        let candidates = [environment["GANTRY_BUILTIN_FUNCTIONS"], exe + "/../share/gantry/functions",
                          exe + "/../../functions", exe + "/../../../functions", exe + "/../../../../functions"]
        for case let dir? in candidates {
            let path = URL(fileURLWithPath: dir).standardizedFileURL.path
            if FileManager.default.fileExists(atPath: path + "/wait/function.yaml") { return path }
        }
        return nil
    }
}
