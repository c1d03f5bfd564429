import BuiltProducts
import Foundation
import XCTest

/// Waits for a condition with a deadline instead of sleeping: the test is as fast as the system allows and fails
/// with the last observed state when the deadline passes.
package func eventually<T>(_ what: String, timeout: Double = 30, interval: Double = 0.05,
                   file: StaticString = #filePath, line: UInt = #line,
                   _ probe: () async throws -> T?) async throws -> T {
    let deadline = Date().addingTimeInterval(timeout)
    var lastError: Error?
    while Date() < deadline {
        do { if let value = try await probe() { return value } } catch { lastError = error }
        try await Task.sleep(nanoseconds: UInt64(interval * 1e9))
    }
    XCTFail("timed out after \(timeout)s waiting for \(what)\(lastError.map { ": \($0)" } ?? "")", file: file, line: line)
    throw CancellationError()
}

/// Writable by anyone: the servers under test run their functions as `nobody`, and some leave marks here.
package func makeTempDir(_ name: String = "gantry-test") throws -> String {
    let path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                            attributes: [.posixPermissions: 0o777])
    return URL(fileURLWithPath: path).resolvingSymlinksInPath().path
}

/// A loopback port nobody listens on right now.
package func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// Runs a command, returns stdout; throws with stderr when it fails.
@discardableResult
package func sh(_ args: [String], cwd: String? = nil, env: [String: String]? = nil, stdin: String? = nil) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    if let env { p.environment = ProcessInfo.processInfo.environment.merging(env) { _, new in new } }
    let out = Pipe(), err = Pipe(), input = Pipe()
    p.standardOutput = out; p.standardError = err; p.standardInput = input
    try p.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw NSError(domain: "sh", code: Int(p.terminationStatus), userInfo: [NSLocalizedDescriptionKey:
            "\(args.joined(separator: " ")) exited \(p.terminationStatus): \(String(decoding: errData, as: UTF8.self))"])
    }
    return String(decoding: outData, as: UTF8.self)
}

/// The directory holding the built products (`gantry`, `gantry-supervise`, `gantry-fn-*`): the test runner's own.
package var productsDirectory: String {
    (((try? BuiltProducts.executable("gantry")) ?? "/gantry") as NSString).deletingLastPathComponent
}

/// Whether `pid` is gone or a zombie (dead, not yet reaped): either way it runs no more.
package func isZombie(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return true }
    return stat[stat.index(close, offsetBy: 2)] == "Z"
}
