import Foundation
import GantrySupport
import XCTest

/// `gantry logs ID --follow` is watched through a pipe or a file as often as on a terminal (`| grep`, `> log`,
/// a CI step): each line must come out as it is logged, not when the deployment ends or a buffer fills.
final class CLIFollowTests: XCTestCase {
    func testLogsFollowIntoAPipeShowsEachLineWhileTheDeploymentRuns() async throws {
        let (git, server, marks) = try await launchServer()
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: followed
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with:
                      env: {MARKS: \(marks)}
                      run: |
                        echo "first line"
                        while [ ! -f "$MARKS/release" ]; do sleep 0.1; done
                        echo "last line"
            """)
        let commit = try git.commitAndPush("followed").commit
        let id = try await server.deploymentID(commit: commit)
        _ = try await eventually("the stage to log its first line") {
            let logs = stage(try await server.deployment(id), 0)?.logText ?? ""
            return logs.contains("first line") ? true : nil
        }

        let follow = Process()
        follow.executableURL = URL(fileURLWithPath: productsDirectory + "/gantry")
        follow.arguments = ["logs", id, "--follow"]
        follow.environment = ProcessInfo.processInfo.environment.merging(["GANTRY_SERVER": server.url,
                                                                          "GANTRY_TOKEN": server.token]) { $1 }
        let out = Pipe()
        follow.standardOutput = out
        follow.standardError = FileHandle.nullDevice
        let received = PipeText(out.fileHandleForReading)
        try follow.run()
        defer { if follow.isRunning { follow.terminate() }; follow.waitUntilExit() }

        // The stage holds until released: whatever arrives now was flushed by a CLI that is still following.
        _ = try await eventually("the first line through the pipe while `logs --follow` runs", timeout: 15) {
            received.text.contains("[stage 0 #1] first line") ? true : nil
        }
        XCTAssertTrue(follow.isRunning)
        let status = try await server.deployment(id).status
        XCTAssertEqual(status, "RUNNING")

        _ = FileManager.default.createFile(atPath: marks + "/release", contents: nil)
        _ = try await eventually("`logs --follow` to end with the deployment") { follow.isRunning ? nil : true }
        XCTAssertEqual(follow.terminationStatus, 0)
        _ = try await eventually("the rest of the output") {
            received.text.contains("deployment \(id): SUCCESS") ? true : nil
        }
        XCTAssertTrue(received.text.contains("[stage 0 #1] last line"), received.text)
    }
}

/// Everything read from a pipe so far, read on a thread of its own so the reader never waits on the writer.
private final class PipeText: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    init(_ handle: FileHandle) {
        Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { return }
                lock.lock(); data.append(chunk); lock.unlock()
            }
        }.start()
    }

    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}
