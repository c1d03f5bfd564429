import Foundation

/// Writes test-only functions as bash scripts with their own function.yaml, like a user's would be, and returns
/// the folder to list in the server config's `functions.paths`.
package func writeScriptFunctions(in root: String, _ functions: [(name: String, yaml: String, script: String)]) throws -> String {
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

/// The function `busy` (stage BUSY) under `concurrency: {key: function, limit: limit}`: each invocation appends to
/// `marks/seen` how many run at this moment and the replica it runs on (a lock makes the count exact), then runs
/// `hold` before it counts itself out.
package func countingFunctions(marks: String, limit: Int, hold: String) -> (String) throws -> String {
    { root in
        try writeScriptFunctions(in: root, [("busy", "stages: [BUSY]\nconcurrency: {key: function, limit: \(limit)}", """
            cat > /dev/null
            exec 9>\(marks)/lock
            flock 9; n=$(( $(cat \(marks)/now 2>/dev/null || echo 0) + 1 )); echo $n > \(marks)/now
            echo "$n $GANTRY_REPLICA" >> \(marks)/seen; flock -u 9
            \(hold)
            flock 9; echo $(( $(cat \(marks)/now) - 1 )) > \(marks)/now; flock -u 9
            """)])
    }
}

/// A pipeline of one BUSY stage (the `busy` function above) for each name.
package func writeBusyApps(_ git: GitFixture, _ names: [String]) throws {
    for name in names {
        try git.write("\(name)/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: \(name)
              pipeline:
                stages:
                  - name: BUSY
            """)
    }
}
