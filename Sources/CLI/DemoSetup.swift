import Accounts
import Digest
import Foundation
import Ingress

/// `gantry demo`: a bare repository with a sample app, a signed post-receive hook, a config, and the server.
/// Everything lives under one directory, so `rm -rf` of it undoes the demo.
struct DemoSetup {
    let directory: String
    let listen: String

    init(directory: String, listen: String) {
        self.directory = URL(fileURLWithPath: directory).standardizedFileURL.path
        self.listen = listen
    }

    var bare: String { directory + "/demo.git" }
    var configPath: String { directory + "/gantry.yaml" }

    /// Creates what is missing and returns the config path. Safe to run again: existing files are kept.
    func prepare() throws -> String {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let secretFile = directory + "/hook-secret", tokenFile = directory + "/api-token"
        let passwordFile = directory + "/admin-password", hashFile = directory + "/admin-password.bcrypt"
        for file in [secretFile, tokenFile, passwordFile] where !fm.fileExists(atPath: file) {
            try Digest.randomHex(bytes: 32).write(toFile: file, atomically: true, encoding: .utf8)
            try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
        if !fm.fileExists(atPath: hashFile) {
            // The web UI's admin: the password in one file for the person, its bcrypt hash in another for the config.
            let password = try String(contentsOfFile: passwordFile, encoding: .utf8)
            try bcryptHash(password).write(toFile: hashFile, atomically: true, encoding: .utf8)
            try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: hashFile)
        }
        if !fm.fileExists(atPath: bare) { try createRepository() }
        let hook = bare + "/hooks/post-receive"
        try PostReceiveHook.script(url: "http://\(listen)/hooks/demo", secretFile: secretFile).write(toFile: hook, atomically: true, encoding: .utf8)
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook)
        if !fm.fileExists(atPath: configPath) {
            // Isolating functions needs root (or its capabilities): a demo started by a user opts out, and says so.
            let isolation = geteuid() == 0 ? "" : """

            functions:
              isolation: off   # `gantry demo` was not started as root: functions run as you (README "Security model")
            """
            try """
            # Written by `gantry demo`. Secrets are referenced, never inline.
            server:
              listen: \(listen)
              dataDir: ./data
              tokens:
                - {name: demo, secret: file:\(tokenFile), role: admin}
            users:
              - {name: admin, passwordHash: file:\(hashFile), role: admin}
            repositories:
              - id: demo
                remote: \(bare)
                branch: main
                webhook:
                  binding: demo
                  provider: github
                  secrets: [file:\(secretFile)]\(isolation)
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        }
        return configPath
    }

    func instructions() -> String {
        let token = (try? String(contentsOfFile: directory + "/api-token", encoding: .utf8)) ?? "?"
        let password = (try? String(contentsOfFile: directory + "/admin-password", encoding: .utf8)) ?? "?"
        // A demo made before the web UI had accounts keeps its config: say how to get a login.
        let hasUsers = ((try? String(contentsOfFile: configPath, encoding: .utf8)) ?? "").contains("\nusers:")
        let login = hasUsers ? "user admin, password \(password)" : "no users in this older demo config: rm -rf \(directory) for an admin login"
        return """

        Gantry demo is starting on http://\(listen)
          repository: \(bare)   (its post-receive hook sends a signed GitHub push webhook)
          config:     \(configPath)
          web UI:     http://\(listen)/  (\(login))

        In another terminal:
          export GANTRY_SERVER=http://\(listen) GANTRY_TOKEN=\(token)
          git clone \(bare) /tmp/gantry-demo-work && cd /tmp/gantry-demo-work
          echo "change $(date)" >> apps/hello/index.txt && git commit -am "my change" && git push
          gantry deployments                 # SCRIPT_RUN → WAIT 20s → WAIT_APPROVAL → SCRIPT_RUN
          gantry logs <deployment-id> --follow
          gantry approve <deployment-id>     # once WAIT_APPROVAL is SUSPENDED

        """
    }

    private func createRepository() throws {
        let work = directory + "/.seed-work"
        try? FileManager.default.removeItem(atPath: work)
        try git(["init", "-q", "--bare", "--initial-branch=main", bare])
        try git(["init", "-q", "--initial-branch=main", work])
        let app = work + "/apps/hello"
        try FileManager.default.createDirectory(atPath: app, withIntermediateDirectories: true)
        try """
        apiVersion: gantry.dev/v1
        kind: App
        spec:
          name: hello
          pipeline:
            stages:
              - name: SCRIPT_RUN
                with:
                  run: |
                    echo "building $SR_APPLICATION_NAME at $SR_TRIGGERED_COMMIT_HASH"
                    cat index.txt
                  onRollback: echo "rolling back $SR_APPLICATION_NAME"
              - name: WAIT
                with:
                  duration: 20s
              - name: WAIT_APPROVAL
                with:
                  minApproverNum: 1
              - name: SCRIPT_RUN
                with:
                  run: echo "promoted $SR_TRIGGERED_COMMIT_HASH"

        """.write(toFile: app + "/app.gantry.yaml", atomically: true, encoding: .utf8)
        try "hello from the Gantry demo\n".write(toFile: app + "/index.txt", atomically: true, encoding: .utf8)
        try git(["-C", work, "add", "."])
        try git(["-C", work, "-c", "user.name=Gantry Demo", "-c", "user.email=demo@gantry.invalid",
                 "commit", "-q", "-m", "Sample application"])
        try git(["-C", work, "push", "-q", bare, "main"])
        try FileManager.default.removeItem(atPath: work)
    }

    private func git(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git"] + args
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw DemoFailed(description: "git \(args.joined(separator: " ")) failed with status \(p.terminationStatus)")
        }
    }
}

struct DemoFailed: Error, CustomStringConvertible { let description: String }
