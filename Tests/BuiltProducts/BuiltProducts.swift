import Foundation

/// Where the tests find what `swift build` made (`gantry`, `gantry-supervise`, `gantry-fn-*`): SwiftPM puts every
/// product of a build in one directory, the test runner's own or one above it (the runner may sit in a bundle).
public enum BuiltProducts {
    /// The path of the built executable `name`; throws when it has not been built.
    public static func executable(_ name: String) throws -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = (exe as NSString).deletingLastPathComponent
        while dir != "/" {
            if FileManager.default.isExecutableFile(atPath: dir + "/" + name) { return dir + "/" + name }
            dir = (dir as NSString).deletingLastPathComponent
        }
        throw NotBuilt(description: "\(name) is not built (swift build --build-tests builds every product)")
    }

    public struct NotBuilt: Error, CustomStringConvertible { public let description: String }
}
