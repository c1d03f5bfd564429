import Foundation
import XCTest
@testable import FunctionHost
#if canImport(Glibc)
import Glibc
#endif

/// No orphans: a function's processes die with it, with the server, and after a restart.
final class ProcessGroupTests: XCTestCase {
    func testBackgroundChildrenDieWhenTheFunctionExits() throws {
        let box = try FunctionSandbox()
        let spec = try box.scriptFunction("forker", script: """
            sleep 1000 &
            (sleep 1000 &)                 # a grandchild whose parent is already gone
            bash -c 'sleep 1000 & wait' &
            setsid sleep 1000 &            # leaves the group; the supervisor adopts and kills it
            echo $! > "$HOME/escaped.pid"
            sleeps_in_group() { # without pgrep: walk /proc for "sleep" processes of group $$
              n=0
              for f in /proc/[0-9]*/stat; do
                read -r _ comm _ _ pg _ < "$f" 2>/dev/null && [ "$comm" = "(sleep)" ] && [ "$pg" = "$$" ] && n=$((n+1))
              done
            }
            sleeps_in_group
            while [ $n -lt 3 ]; do sleep 0.05; sleeps_in_group; done
            exit 0
            """)
        let recorder = Recorder()
        let request = box.request(spec)
        let outcome = try box.host().run(request, recorder: recorder)
        XCTAssertEqual(outcome.result.status, .succeeded, "\(recorder.logs)")
        let group = try XCTUnwrap(recorder.started?.group)
        let escaped = try XCTUnwrap(Int32(String(contentsOfFile: request.directory + "/escaped.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(-group, SIGKILL); kill(escaped, SIGKILL) } // never leave processes behind
        XCTAssertTrue(waitUntil(5) { groupMembers(group).isEmpty }, "left behind in group \(group): \(groupMembers(group))")
        XCTAssertTrue(waitUntil(5) { !isAlive(escaped) }, "the setsid child \(escaped) survived")
    }

    /// The server dies (its lifeline write end closes, as on kill -9): the supervisor kills the function's group.
    /// The test process stays the supervisor's parent, so only the lifeline can trigger this.
    func testTheGroupDiesWhenTheLifelineCloses() throws {
        let box = try FunctionSandbox()
        let dir = box.root + "/lifeline"
        XCTAssertNil(InvocationDirectory.prepare(dir))
        let process = try SupervisorProcess.spawn(SupervisorLaunch(
            supervisorPath: try SupervisorBinary.require(), argv: ["/bin/bash", "-c", "sleep 1000 & sleep 1000"],
            directory: dir, limits: FunctionLimits(), environment: ["PATH=/usr/bin:/bin"]))
        var group: Int32 = 0
        defer { // never leave processes behind, even when the test fails
            if group > 1 { kill(-group, SIGKILL) }
            kill(process.pid, SIGKILL)
            process.closeAll()
            reap(process.pid)
        }
        group = try startedGroup(process.statusRead)
        XCTAssertTrue(waitUntil(5) { groupMembers(group).count >= 2 })

        close(process.lifelineWrite)
        process.lifelineWrite = -1

        XCTAssertTrue(waitUntil(5) { groupMembers(group).isEmpty }, "survivors: \(groupMembers(group))")
        XCTAssertNil(readLine(process.statusRead, seconds: 5), "the supervisor exits without a report")
    }

    /// The supervisor's parent process dies while the lifeline stays open (held by this test): the parent-death
    /// signal alone must bring the group down.
    func testTheGroupDiesWhenTheSupervisorsParentIsKilled() throws {
        let supervisor = try SupervisorBinary.require()
        let box = try FunctionSandbox()
        let dir = box.root + "/pdeath"
        XCTAssertNil(InvocationDirectory.prepare(dir))
        let lifeline = try Posix.pipe(), status = try Posix.pipe()
        defer { [lifeline.write, status.read].forEach { close($0) } }
        // A stand-in server: bash starts the supervisor in the background and waits.
        let parent = try spawnProcess(["/bin/bash", "-c", "\"$0\" --lifeline 3 --status 4 --dir \"$1\" -- /bin/bash -c 'sleep 1000 & sleep 1000' & wait",
                                       supervisor, dir], fds: [3: lifeline.read, 4: status.write])
        close(lifeline.read)
        close(status.write)
        var group: Int32 = 0
        defer { if group > 1 { kill(-group, SIGKILL) } } // the supervisor then exits too
        group = try startedGroup(status.read)
        XCTAssertTrue(waitUntil(5) { groupMembers(group).count >= 2 })

        kill(parent, SIGKILL)
        reap(parent)

        XCTAssertTrue(waitUntil(5) { groupMembers(group).isEmpty }, "survivors: \(groupMembers(group))")
    }

    func testKillLeftoverGroupKillsOnlyAMatchingGroup() throws {
        let leader = try spawnProcess(["/bin/sleep", "1000"], newGroup: true)
        defer { kill(leader, SIGKILL); reap(leader) }
        let start = try XCTUnwrap(ProcStat.read(leader)?.startTicks)

        XCTAssertFalse(FunctionHost.killLeftoverGroup(leader, leaderStart: start + 1), "another start time: someone else's pid")
        XCTAssertTrue(isAlive(leader))

        XCTAssertTrue(FunctionHost.killLeftoverGroup(leader, leaderStart: start))
        XCTAssertTrue(waitUntil(5) { !isAlive(leader) })
    }

    func testKillLeftoverGroupKillsAGroupWhoseLeaderIsGone() throws {
        // The leader starts a background sleep in its group and exits, as after a server crash mid-attempt.
        let leader = try spawnProcess(["/bin/bash", "-c", "sleep 1000 & exit 0"], newGroup: true)
        let start = try XCTUnwrap(ProcStat.read(leader)?.startTicks)
        reap(leader)
        XCTAssertTrue(waitUntil(5) { groupMembers(leader).count == 1 })

        XCTAssertTrue(FunctionHost.killLeftoverGroup(leader, leaderStart: start))
        XCTAssertTrue(waitUntil(5) { groupMembers(leader).isEmpty })
        XCTAssertFalse(FunctionHost.killLeftoverGroup(leader, leaderStart: start), "nothing left to signal")
    }

    /// Group F from the supervisor's first status line.
    private func startedGroup(_ statusFd: Int32) throws -> Int32 {
        let line = try XCTUnwrap(readLine(statusFd, seconds: 5), "no status line from the supervisor")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
        return try XCTUnwrap((json["started"] as? NSNumber)?.int32Value, line)
    }
}
