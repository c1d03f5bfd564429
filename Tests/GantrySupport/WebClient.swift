import Foundation
import Accounts

/// A browser without JavaScript: real HTTP through curl with its own cookie jar, redirects not followed, so a
/// test sees every Set-Cookie and 303 as a browser would receive them.
package final class WebClient: @unchecked Sendable {
    package let base: String
    package let jar: String

    package init(base: String) throws {
        self.base = base
        jar = try makeTempDir("gantry-web") + "/cookies"
    }

    package struct Page { package let status: Int; package let headers: String; package let body: String }

    package func get(_ path: String) throws -> Page { try curl(["-X", "GET", base + path]) }

    /// Posts a form (`application/x-www-form-urlencoded`).
    package func post(_ path: String, _ fields: [String: String]) throws -> Page {
        var args = ["-X", "POST", base + path]
        for (k, v) in fields.sorted(by: { $0.key < $1.key }) { args += ["--data-urlencode", "\(k)=\(v)"] }
        if fields.isEmpty { args += ["--data", ""] }
        return try curl(args)
    }

    /// Logs in through the login form (its CSRF token included) and returns the login answer.
    @discardableResult
    package func login(_ user: String, _ password: String) throws -> Page {
        let form = try get("/login")
        return try post("/login", ["_csrf": WebClient.csrf(in: form.body) ?? "", "username": user, "password": password,
                                   "next": "/applications"])
    }

    /// The CSRF token a page's forms carry.
    package static func csrf(in html: String) -> String? {
        guard let r = html.range(of: #"name="_csrf" value=""#) else { return nil }
        return String(html[r.upperBound...].prefix { $0 != "\"" })
    }

    package func cookie(_ name: String) -> String? {
        let text = (try? String(contentsOfFile: jar, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            if parts.count >= 7 && parts[5] == name { return String(parts[6]) }
        }
        return nil
    }

    private func curl(_ args: [String]) throws -> Page {
        let dir = try makeTempDir("gantry-curl")
        let code = try sh(["curl", "-s", "-b", jar, "-c", jar, "-D", dir + "/headers", "-o", dir + "/body", "-w", "%{http_code}"] + args)
        return Page(status: Int(code) ?? 0, headers: (try? String(contentsOfFile: dir + "/headers", encoding: .utf8)) ?? "",
                    body: (try? String(contentsOfFile: dir + "/body", encoding: .utf8)) ?? "")
    }
}

/// `users:` for a test config: bcrypt hashes with a low cost, so logging in stays fast in a debug build.
package func usersYAML(_ users: [(name: String, password: String, role: String)]) -> String {
    "users:\n" + users.map { "  - {name: \($0.name), passwordHash: '\(bcryptHash($0.password, cost: 4))', role: \($0.role)}" }
        .joined(separator: "\n")
}

/// A server with these users and the approval app pushed once: returns its first deployment's id once its
/// WAIT_APPROVAL waits.
package func launchWithApprovalApp(users: [(name: String, password: String, role: String)])
    async throws -> (git: GitFixture, server: ServerProcess, deployment: String) {
    let (git, server, _) = try await launchServer(extraYAML: usersYAML(users))
    try git.write("apps/hello/app.gantry.yaml", approvalAppYAML)
    try git.write("apps/hello/index.txt", "v1\n")
    let (commit, _) = try git.commitAndPush("first")
    let id = try await server.deploymentID(commit: commit)
    _ = try await eventually("WAIT_APPROVAL to suspend") {
        stage(try await server.deployment(id), 2)?.status == "SUSPENDED" ? true : nil
    }
    return (git, server, id)
}

/// The approval pipeline the web tests deploy.
package let approvalAppYAML = """
    apiVersion: gantry.dev/v1
    kind: App
    spec:
      name: hello
      labels: {team: web}
      pipeline:
        stages:
          - name: SCRIPT_RUN
            with:
              run: echo "building $SR_APPLICATION_NAME"; cat index.txt
          - name: WAIT
            with: {duration: 2s}
          - name: WAIT_APPROVAL
          - name: SCRIPT_RUN
            with: {run: echo promoted}
    """
