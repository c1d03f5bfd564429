import Foundation
import FunctionKit
import XCTest
@testable import FunctionHost
#if canImport(Glibc)
import Glibc
#endif

/// Isolation as `gantry-supervise` sets it up between fork and exec: what a function sees of the file system,
/// /tmp, the network, and who it runs as. Needs root (mount namespaces, a user switch), as the server does.
final class FunctionIsolationTests: XCTestCase {
    let nobody = FunctionUser(name: "nobody", uid: 65534, gid: 65534)

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("function isolation needs root") }
    }

    /// A layout outside /tmp, so that what hides the data dir is the hiding itself, not the private /tmp.
    final class Layout {
        let root = "/var/tmp/gantry-isolation-\(UUID().uuidString.prefix(8))"
        var data: String { root + "/data" }
        var invocation: String { data + "/invocations/d1/0-1" }
        var folder: String { root + "/functions/probe" }

        init() throws {
            let fm = FileManager.default
            for dir in [invocation, folder] {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                       attributes: [.posixPermissions: 0o755])
            }
            try "the database".write(toFile: data + "/gantry.sqlite", atomically: true, encoding: .utf8)
            try "a secret beside the code".write(toFile: folder + "/secret.txt", atomically: true, encoding: .utf8)
            try "hello".write(toFile: folder + "/visible.txt", atomically: true, encoding: .utf8)
            // Readable and writable by anyone: only the isolation may stand in the function's way.
            chmod(data + "/gantry.sqlite", 0o644)
            chmod(folder + "/secret.txt", 0o644)
            chmod(folder, 0o777)
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }
    }

    func testSupervisorHidesPathsKeepsTheInvocationsOwnPrivatizesTmpAndSwitchesUser() throws {
        let layout = try Layout()
        XCTAssertEqual(lchown(layout.invocation, nobody.uid, nobody.gid), 0)
        let outside = "/tmp/gantry-isolation-outside-\(UUID().uuidString.prefix(8))"
        let inside = "/tmp/gantry-isolation-inside-\(UUID().uuidString.prefix(8))"
        try "the server's".write(toFile: outside, atomically: true, encoding: .utf8)
        defer { unlink(outside); unlink(inside) }
        let script = """
            echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"
            echo "data=$(ls -A \(layout.data) | tr '\\n' ' ')"
            cat \(layout.data)/gantry.sqlite >/dev/null 2>&1 && echo db=read || echo db=denied
            cat \(layout.folder)/secret.txt >/dev/null 2>&1 && echo secret=read || echo secret=denied
            echo "visible=$(cat \(layout.folder)/visible.txt)"
            echo written > \(layout.invocation)/out && echo kept=writable
            (echo x > \(layout.folder)/new) 2>/dev/null && echo folder=writable || echo folder=read-only
            test -e \(outside) && echo tmp=shared || echo tmp=private
            echo mine > \(inside) && echo tmp=writable
            """
        let isolation = SupervisorIsolation(hide: [layout.data, layout.folder + "/secret.txt"],
                                            keep: [(layout.folder, true), (layout.invocation, false)],
                                            user: nobody, networkNone: false, tmpBytes: 16 << 20)
        let run = try runSupervisor(argv: ["/bin/bash", "-c", script], directory: layout.invocation, isolation: isolation)
        XCTAssertEqual(run.report?["exitCode"]?.number, 0, "\(run)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, [
            "uid=65534 gid=65534 groups=65534",
            "data=invocations ",             // only the way to the kept invocation dir, made in an empty tmpfs
            "db=denied",
            "secret=denied",                 // a hidden file inside a kept folder stays hidden
            "visible=hello",
            "kept=writable",
            "folder=read-only",
            "tmp=private",
            "tmp=writable",
        ], run.stderr)
        XCTAssertEqual(try String(contentsOfFile: layout.invocation + "/out", encoding: .utf8), "written\n",
                       "the kept directory is the real one")
        XCTAssertFalse(FileManager.default.fileExists(atPath: inside), "the function's /tmp is its own")
        XCTAssertEqual(try String(contentsOfFile: layout.data + "/gantry.sqlite", encoding: .utf8), "the database",
                       "hiding changes nothing outside the function's namespace")
    }

    func testSetupThatFailsNeverRunsTheFunction() throws {
        let layout = try Layout()
        let marker = layout.root + "/ran"
        let isolation = SupervisorIsolation(hide: [layout.data], keep: [(layout.root + "/no-such-path", false)],
                                            user: nobody, networkNone: false, tmpBytes: nil)
        let run = try runSupervisor(argv: ["/bin/bash", "-c", "touch \(marker)"], directory: layout.root,
                                    isolation: isolation)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "the function ran without its isolation")
        XCTAssertEqual(run.report?["exitCode"]?.number, 123, "\(run)")
        XCTAssertTrue(run.isolationError?.hasPrefix("cannot open kept path \(layout.root)/no-such-path") == true, "\(run)")
        XCTAssertTrue(run.stderr.contains("isolation failed, the function was not run"), run.stderr)
    }

    func testTheHostReportsIsolationFailedWithoutRunningTheFunction() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("never", script: "touch ran")
        // A hidden path the supervisor cannot even look at (outside /tmp, where the private /tmp would make it
        // vanish first): the setup fails, so the function must not start.
        let loop = "/var/tmp/gantry-isolation-loop-\(UUID().uuidString.prefix(8))"
        XCTAssertEqual(symlink(loop, loop), 0)
        defer { unlink(loop) }
        let host = FunctionHost(supervisorPath: try SupervisorBinary.require(),
                                registry: FunctionRegistry(paths: [box.functionsDir], executableSearchPaths: []),
                                serverEnvironment: ["PATH": "/usr/bin:/bin"],
                                isolation: FunctionIsolation(user: nobody, hidden: [loop]))
        let recorder = Recorder()
        let request = box.request(spec)
        let outcome = host.run(request, recorder: recorder)
        XCTAssertEqual(outcome.errorType, "IsolationFailed", "\(outcome.result.message ?? "") \(recorder.logs)")
        XCTAssertTrue(outcome.result.message?.contains("cannot stat hidden path \(loop)") == true, outcome.result.message ?? "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: request.directory + "/ran"), "the function ran")
    }

    /// `functions.keep: [/tmp]`: the machine's /tmp instead of a private one, and still no way into the hidden
    /// data dir and config inside it, while the invocation's own directory (inside the hidden data dir) works.
    func testAKeptFolderStaysVisibleWithTheHiddenPathsInsideItStillHidden() throws {
        let box = try FunctionSandbox()
        let data = box.root + "/data", config = box.root + "/gantry.yaml", shared = box.root + "/shared"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o1777])
        try "the database".write(toFile: data + "/gantry.sqlite", atomically: true, encoding: .utf8)
        try "server: {}".write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o644)
        let spec = try box.scriptFunction("sharer", script: """
            echo "data=$(ls -A \(data) | tr '\\n' ' ')" >&2
            cat \(config) >/dev/null 2>&1 && echo config=read >&2 || echo config=denied >&2
            echo from-the-function > \(shared)/note && echo shared=writable >&2
            """)
        let isolation = FunctionIsolation(user: nobody, hidden: [data, config], kept: ["/tmp"])
        XCTAssertNil(isolation.keptProblem())
        let host = FunctionHost(supervisorPath: try SupervisorBinary.require(),
                                registry: FunctionRegistry(paths: [box.functionsDir], executableSearchPaths: []),
                                serverEnvironment: ["PATH": "/usr/bin:/bin"], isolation: isolation)
        var request = box.request(spec)
        request.directory = data + "/invocations/" + UUID().uuidString
        let recorder = Recorder()
        let outcome = host.run(request, recorder: recorder)
        XCTAssertEqual(outcome.result.status, .succeeded, "\(outcome.result.message ?? "") \(recorder.logs)")
        XCTAssertEqual(recorder.logs.filter { !$0.hasPrefix("gantry") }, ["data=invocations ", "config=denied", "shared=writable"])
        XCTAssertEqual(try String(contentsOfFile: shared + "/note", encoding: .utf8), "from-the-function\n")
    }

    func testNetworkInFunctionYAMLIsNoneOrHost() {
        let base = "name: f\nstages: [F]\ncommand: [./run.sh]\n"
        guard case .success(let offline) = FunctionYAML.parse(base + "network: none", file: "function.yaml", folder: "/f"),
              case .success(let plain) = FunctionYAML.parse(base, file: "function.yaml", folder: "/f") else {
            return XCTFail("a valid function.yaml was refused")
        }
        XCTAssertEqual(offline.network, .none)
        XCTAssertEqual(plain.network, .host)
        guard case .failure(let problems) = FunctionYAML.parse(base + "network: offline", file: "function.yaml", folder: "/f") else {
            return XCTFail("network: offline was accepted")
        }
        XCTAssertEqual(problems.messages, [#"function.yaml:4: network: must be none or host, got "offline""#])
    }

    func testKeptPathsMayNotUncoverWhatIsHidden() {
        let hidden = ["/srv/gantry/data"]
        XCTAssertNil(FunctionIsolation(user: nobody, hidden: hidden, kept: ["/tmp", "/srv/shared"]).keptProblem())
        XCTAssertNotNil(FunctionIsolation(user: nobody, hidden: hidden, kept: ["/srv/gantry/data"]).keptProblem())
        XCTAssertNotNil(FunctionIsolation(user: nobody, hidden: hidden, kept: ["/srv/gantry/data/mirrors"]).keptProblem())
        XCTAssertNotNil(FunctionIsolation(user: nobody, hidden: hidden, kept: ["/"]).keptProblem())
    }

    func testNetworkNoneLeavesOnlyLoopbackAndNoWayToTheHostsPorts() throws {
        let listener = try LoopbackListener()
        let box = try FunctionSandbox()
        let script = """
            awk 'NR > 2 { sub(":", "", $1); print "interface=" $1 }' /proc/net/dev >&2
            (exec 3<>/dev/tcp/127.0.0.1/\(listener.port)) 2>/dev/null && echo connect=ok >&2 || echo connect=failed >&2
            """
        let offline = try box.scriptFunction("offline", script: script, extraYAML: "network: none")
        let online = try box.scriptFunction("online", script: script)
        XCTAssertEqual(offline.network, .none)
        let host = FunctionHost(supervisorPath: try SupervisorBinary.require(),
                                registry: FunctionRegistry(paths: [box.functionsDir], executableSearchPaths: []),
                                serverEnvironment: ["PATH": "/usr/bin:/bin"],
                                isolation: FunctionIsolation(user: nobody, hidden: []))

        let control = Recorder()
        XCTAssertEqual(host.run(box.request(online), recorder: control).result.status, .succeeded, "\(control.logs)")
        XCTAssertTrue(control.logs.contains("connect=ok"), "the listener is reachable from the host's network: \(control.logs)")

        let recorder = Recorder()
        let outcome = host.run(box.request(offline), recorder: recorder)
        XCTAssertEqual(outcome.result.status, .succeeded, "\(outcome.result.message ?? "") \(recorder.logs)")
        XCTAssertEqual(recorder.logs.filter { $0.hasPrefix("interface=") }, ["interface=lo"])
        XCTAssertTrue(recorder.logs.contains("connect=failed"), "\(recorder.logs)")
    }

    // MARK: helpers

    struct SupervisorRun: CustomStringConvertible {
        var stdout = "", stderr = ""
        var status: [JSONValue] = []
        var report: JSONValue? { status.first { $0["wallMs"] != nil } }
        var isolationError: String? { status.compactMap { $0["isolationError"]?.string }.first }
        var description: String { "stdout: \(stdout)\nstderr: \(stderr)\nstatus: \(status.map { $0.encoded() })" }
    }

    /// Runs `argv` under the supervisor with `isolation` and collects everything until the supervisor exits.
    func runSupervisor(argv: [String], directory: String, isolation: SupervisorIsolation) throws -> SupervisorRun {
        var launch = SupervisorLaunch(supervisorPath: try SupervisorBinary.require(), argv: argv, directory: directory,
                                      limits: FunctionLimits(), environment: ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"])
        launch.isolation = isolation
        let process = try SupervisorProcess.spawn(launch)
        defer { process.closeAll() }
        close(process.stdinWrite)
        process.stdinWrite = -1
        var out = Data(), err = Data(), status = Data()
        let end = Date().addingTimeInterval(20)
        while (process.stdoutRead >= 0 || process.stderrRead >= 0 || process.statusRead >= 0) && Date() < end {
            var fds = [process.stdoutRead, process.stderrRead, process.statusRead].filter { $0 >= 0 }
                .map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), 1000) > 0 else { continue }
            for p in fds where p.revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 65536)
                let n = read(p.fd, &buffer, buffer.count)
                if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                if n <= 0 {
                    close(p.fd)
                    if p.fd == process.stdoutRead { process.stdoutRead = -1 }
                    if p.fd == process.stderrRead { process.stderrRead = -1 }
                    if p.fd == process.statusRead { process.statusRead = -1 }
                    continue
                }
                let bytes = Data(buffer[..<n])
                if p.fd == process.stdoutRead { out += bytes } else if p.fd == process.stderrRead { err += bytes } else { status += bytes }
            }
        }
        reap(process.pid)
        return SupervisorRun(stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self),
                             status: String(decoding: status, as: UTF8.self).split(separator: "\n")
                                .compactMap { try? JSONValue.decode(String($0)) })
    }
}

/// A TCP listener on 127.0.0.1 of the host's network namespace. Connections complete in its backlog: nobody
/// needs to accept them for a connect to succeed.
final class LoopbackListener: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        guard bound == 0, listen(fd, 16) == 0 else { throw NSError(domain: "listen", code: Int(errno)) }
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    deinit { close(fd) }
}
