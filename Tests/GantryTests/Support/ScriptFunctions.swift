import Foundation

/// Writes test-only functions as bash scripts with their own function.yaml, like a user's would be, and returns
/// the folder to list in the server config's `functions.paths`.
func writeScriptFunctions(in root: String, _ functions: [(name: String, yaml: String, script: String)]) throws -> String {
    let dir = root + "/functions"
    for f in functions {
        let folder = "\(dir)/\(f.name)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "name: \(f.name)\n\(f.yaml)\ncommand: [./run.sh]\n".write(toFile: folder + "/function.yaml",
                                                                     atomically: true, encoding: .utf8)
        try "#!/bin/bash\n\(f.script)\n".write(toFile: folder + "/run.sh", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder + "/run.sh")
    }
    return dir
}
