import BuiltProducts
import FunctionHost
import Foundation
import Planner

/// The repository's own `functions/` with their built executables: the planner reads the app kinds they declare
/// and asks the kubernetes function to compare manifests, as the server does.
enum BuiltinFunctions {
    static func platformFunctions() throws -> PlatformFunctions {
        let functionsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("functions").path
        let kubernetes = try BuiltProducts.executable("gantry-fn-kubernetes")
        let catalog = FunctionCatalog(paths: [functionsFolder],
                                      executableSearchPaths: [(kubernetes as NSString).deletingLastPathComponent])
        let host = FunctionHost(supervisorPath: try BuiltProducts.executable("gantry-supervise"), registry: catalog.registry)
        return PlatformFunctions(catalog: catalog, host: host)
    }
}
