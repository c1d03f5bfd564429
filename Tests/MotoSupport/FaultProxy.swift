import Foundation
import Glibc

/// A loopback TCP listener on a port the kernel picks.
public final class LoopbackListener: @unchecked Sendable {
    let fd: Int32
    public let port: Int

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) == 0 && getsockname(fd, $0, &size) == 0 }
        }
        self.fd = fd
        guard fd >= 0, bound, listen(fd, 64) == 0 else {
            throw Failure(description: "cannot listen on loopback: \(String(cString: strerror(errno)))")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// A port that was free a moment ago (for a server that must be told its port on the command line).
    public static func unusedPort() throws -> Int {
        let listener = try LoopbackListener()
        defer { listener.close() }
        return listener.port
    }

    func accept() -> Int32 { Glibc.accept(fd, nil, nil) }
    func close() { shutdown(fd, Int32(SHUT_RDWR)); _ = Glibc.close(fd) }
}

/// An HTTP proxy between the function and moto that can misbehave on cue, so tests can put a failure exactly
/// where it matters: answer with throttling or 5xx errors, or forward a request to moto and then never answer
/// it (the call took effect, the caller never learns it), to kill the caller at that moment.
/// Every request line that passes is recorded. One request per connection (moto closes after each answer).
public final class FaultProxy: @unchecked Sendable {
    private let listener: LoopbackListener
    private let upstreamPort: Int
    private let lock = NSLock()
    private var holdPattern: String?
    private var held: [Int32] = []
    private var cannedAnswers: [String] = []
    private var lines: [String] = []
    private var stopped = false

    public var url: String { "http://127.0.0.1:\(listener.port)" }

    public init(upstreamPort: Int) throws {
        listener = try LoopbackListener()
        self.upstreamPort = upstreamPort
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    /// The next request whose request line ("METHOD /path") contains `pattern` reaches moto, but its answer is
    /// swallowed and the connection left open until `releaseHeld()`.
    public func holdAnswer(toRequestContaining pattern: String) { lock.withLock { holdPattern = pattern } }

    /// The next `count` requests get this answer from the proxy itself, without reaching moto.
    public func answerNext(_ count: Int, status: Int, errorType: String, message: String) {
        let body = #"{"__type":"\#(errorType)","message":"\#(message)"}"#
        let answer = "HTTP/1.1 \(status) Error\r\nContent-Type: application/json\r\nX-Amzn-ErrorType: \(errorType)\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        lock.withLock { cannedAnswers += Array(repeating: answer, count: count) }
    }

    public var isHolding: Bool { lock.withLock { !held.isEmpty } }

    /// Closes the held connections without an answer.
    public func releaseHeld() {
        let fds = lock.withLock { defer { held = [] }; return held }
        for fd in fds { _ = close(fd) }
    }

    /// Request lines seen so far ("POST /2015-03-31/functions/f/versions").
    public var requestLines: [String] { lock.withLock { lines } }

    public func count(_ pattern: String) -> Int { requestLines.filter { $0.contains(pattern) }.count }

    public func stop() {
        let wasStopped = lock.withLock { defer { stopped = true }; return stopped }
        guard !wasStopped else { return }
        listener.close()
        releaseHeld()
    }

    private func acceptLoop() {
        while true {
            let client = listener.accept()
            if client < 0 {
                if lock.withLock({ stopped }) { return }
                continue
            }
            Thread { [self] in serve(client) }.start()
        }
    }

    private func serve(_ client: Int32) {
        guard let request = readRequest(client) else { _ = close(client); return }
        let line = String(decoding: request.prefix { $0 != 13 }, as: UTF8.self)
        let words = line.split(separator: " ")
        let requestLine = words.count >= 2 ? "\(words[0]) \(words[1])" : line
        let (canned, hold): (String?, Bool) = lock.withLock {
            lines.append(requestLine)
            if !cannedAnswers.isEmpty { return (cannedAnswers.removeFirst(), false) }
            if let pattern = holdPattern, requestLine.contains(pattern) { holdPattern = nil; return (nil, true) }
            return (nil, false)
        }
        if let canned {
            writeAll(client, Array(canned.utf8)); _ = close(client); return
        }
        let answer = forward(request)
        if hold {
            lock.withLock { held.append(client) }
            return
        }
        writeAll(client, answer)
        _ = close(client)
    }

    /// Reads the head up to the blank line, then Content-Length bytes of body.
    private func readRequest(_ fd: Int32) -> [UInt8]? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var bodyStart: Int?
        var length = 0
        while true {
            if let start = bodyStart, data.count >= start + length { return data }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            data += buffer[0..<n]
            if bodyStart == nil, let end = findHeadEnd(data) {
                bodyStart = end
                let head = String(decoding: data[0..<end], as: UTF8.self).lowercased()
                if let range = head.range(of: "\r\ncontent-length:") {
                    // ("\r\n" is one Character in Swift: stop at any newline.)
                    let rest = head[range.upperBound...].prefix { !$0.isNewline }
                    length = Int(rest.trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
        }
    }

    private func findHeadEnd(_ data: [UInt8]) -> Int? {
        guard data.count >= 4 else { return nil }
        for i in 0...(data.count - 4) where data[i] == 13 && data[i + 1] == 10 && data[i + 2] == 13 && data[i + 3] == 10 {
            return i + 4
        }
        return nil
    }

    /// Sends the request to moto and reads its whole answer (moto closes the connection after it).
    private func forward(_ request: [UInt8]) -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { _ = close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(upstreamPort).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return Array("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8) }
        writeAll(fd, request)
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return answer }
            answer += buffer[0..<n]
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }
}
