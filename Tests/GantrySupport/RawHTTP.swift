import Foundation

/// A plain TCP connection to the server, for what URLSession cannot do: send half a request, trickle bytes,
/// send malformed HTTP, and see exactly when the server answers or hangs up.
package final class RawConnection: @unchecked Sendable {   // used by one thread at a time
    package struct Failed: Error, CustomStringConvertible { package let description: String }

    /// What came back: the status (nil when the server sent no complete status line), headers, and whether
    /// the server closed the connection.
    package struct Answer {
        package var status: Int?
        package var headers: [String: String]
        package var body: [UInt8]
        package var closed: Bool

        package init(status: Int?, headers: [String: String], body: [UInt8], closed: Bool) {
            self.status = status; self.headers = headers; self.body = body; self.closed = closed
        }
    }

    private let fd: Int32
    private var buffer: [UInt8] = []
    private var peerClosed = false

    package init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failed(description: "socket: errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw Failed(description: "connect to port \(port): errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// False once the server no longer takes bytes (it closed or reset the connection).
    @discardableResult
    package func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    package func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads what is there within `timeout` seconds (or until the server closes). True when bytes or EOF came.
    private func fill(timeout: Double) -> Bool {
        guard !peerClosed else { return false }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(max(0, timeout * 1000))) > 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { peerClosed = true; return true }
        buffer += chunk.prefix(n)
        return true
    }

    /// Reads one response (head and a Content-Length body) within `timeout` seconds.
    package func readAnswer(timeout: Double) -> Answer {
        let deadline = Date().addingTimeInterval(timeout)
        let separator: [UInt8] = [13, 10, 13, 10]
        while Date() < deadline {
            if let end = buffer.firstRange(of: separator) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                var lines = head.components(separatedBy: "\r\n")
                let statusLine = lines.removeFirst().split(separator: " ")
                var headers: [String: String] = [:]
                for line in lines {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                let length = headers["content-length"].flatMap(Int.init) ?? 0
                while buffer.count < end.upperBound + length, Date() < deadline, !peerClosed {
                    _ = fill(timeout: deadline.timeIntervalSinceNow)
                }
                let body = Array(buffer[end.upperBound..<min(buffer.count, end.upperBound + length)])
                buffer.removeFirst(min(buffer.count, end.upperBound + length))
                return Answer(status: statusLine.count > 1 ? Int(statusLine[1]) : nil, headers: headers, body: body,
                              closed: peerClosed)
            }
            if peerClosed { break }
            _ = fill(timeout: deadline.timeIntervalSinceNow)
        }
        return Answer(status: nil, headers: [:], body: [], closed: peerClosed)
    }

    /// Seconds until the server closes the connection (reading and dropping what it sends), or nil at `timeout`.
    package func waitForClose(timeout: Double) -> Double? {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if peerClosed { return Date().timeIntervalSince(start) }
            _ = fill(timeout: timeout - Date().timeIntervalSince(start))
        }
        return peerClosed ? Date().timeIntervalSince(start) : nil
    }

    package var isClosedByServer: Bool { peerClosed }
}

/// A request as bytes: head lines joined with CRLF, then the body.
package func rawRequest(_ path: String, method: String = "POST", headers: [(String, String)], body: [UInt8] = []) -> [UInt8] {
    var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    return Array((head + "\r\n").utf8) + body
}
