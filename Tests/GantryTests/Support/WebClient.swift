import Foundation
@testable import Server
import Accounts

/// A browser without JavaScript: real HTTP through curl with its own cookie jar, redirects not followed, so a
/// test sees every Set-Cookie and 303 as a browser would receive them.
final class WebClient: @unchecked Sendable {
    let base: String
    let jar: String

    init(base: String) throws {
        self.base = base
        jar = try makeTempDir("gantry-web") + "/cookies"
    }

    struct Page { let status: Int; let headers: String; let body: String }

    func get(_ path: String) throws -> Page { try curl(["-X", "GET", base + path]) }

    /// Posts a form (`application/x-www-form-urlencoded`).
    func post(_ path: String, _ fields: [String: String]) throws -> Page {
        var args = ["-X", "POST", base + path]
        for (k, v) in fields.sorted(by: { $0.key < $1.key }) { args += ["--data-urlencode", "\(k)=\(v)"] }
        if fields.isEmpty { args += ["--data", ""] }
        return try curl(args)
    }

    /// Logs in through the login form (its CSRF token included) and returns the login answer.
    @discardableResult
    func login(_ user: String, _ password: String) throws -> Page {
        let form = try get("/login")
        return try post("/login", ["_csrf": WebClient.csrf(in: form.body) ?? "", "username": user, "password": password,
                                   "next": "/applications"])
    }

    /// The CSRF token a page's forms carry.
    static func csrf(in html: String) -> String? {
        guard let r = html.range(of: #"name="_csrf" value=""#) else { return nil }
        return String(html[r.upperBound...].prefix { $0 != "\"" })
    }

    func cookie(_ name: String) -> String? {
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
func usersYAML(_ users: [(name: String, password: String, role: String)]) -> String {
    "users:\n" + users.map { "  - {name: \($0.name), passwordHash: '\(bcryptHash($0.password, cost: 4))', role: \($0.role)}" }
        .joined(separator: "\n")
}

/// A server with these users and the approval app pushed once: returns its first deployment's id once its
/// WAIT_APPROVAL waits.
func launchWithApprovalApp(users: [(name: String, password: String, role: String)])
    async throws -> (git: GitFixture, server: ServerProcess, deployment: String) {
    let (git, server, _) = try await launchServer(extraYAML: usersYAML(users))
    try git.write("apps/hello/app.gantry.yaml", approvalAppYAML)
    try git.write("apps/hello/index.txt", "v1\n")
    let (commit, _) = try git.commitAndPush("first")
    let id = try await server.deploymentID(commit: commit)
    _ = try await eventually("WAIT_APPROVAL to suspend") {
        stage(try await server.deployment(id), 2)["status"] as? String == "SUSPENDED" ? true : nil
    }
    return (git, server, id)
}

/// The approval pipeline the web tests deploy.
let approvalAppYAML = """
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
