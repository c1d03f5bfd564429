#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The function's side of protocol v1: read the event from stdin, write messages to stdout, log to stderr.
///
/// Writes go straight to the file descriptors with `write(2)`, never through a buffered stream: a checkpoint
/// line must be in the host's pipe before the function goes on, and a crash must not lose a buffered line.
public enum FunctionIO {
    /// Reads all of stdin and decodes it as the invocation's event.
    public static func readEvent() throws -> FunctionEvent {
        try decodeEvent(readAll(fd: 0))
    }

    /// Decodes an event, with an error message that names what is wrong rather than a raw `DecodingError`.
    public static func decodeEvent(_ bytes: [UInt8]) throws -> FunctionEvent {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw FunctionFailure("no event on stdin (expected one JSON object, protocol v1)")
        }
        let event: FunctionEvent
        do {
            event = try JSONDecoder().decode(FunctionEvent.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw FunctionFailure("bad event on stdin: \(describe(error))")
        } catch {
            throw FunctionFailure("bad event on stdin: \(error)")
        }
        guard event.protocol == 1 else {
            throw FunctionFailure("event speaks protocol \(event.protocol); this function speaks protocol 1")
        }
        return event
    }

    /// Saves progress; the next attempt of this stage receives `value` as `checkpoint`.
    public static func checkpoint(_ value: JSONValue) { send(.checkpoint(value)) }

    /// Values later stages and rollback can read.
    public static func output(_ values: [String: String]) { send(.output(values)) }

    /// Tells the host this attempt is alive without saying anything else.
    public static func heartbeat() { send(.heartbeat) }

    /// Writes the result line and exits 0: nothing may follow a result.
    public static func finish(_ result: FunctionResult) -> Never {
        send(.result(result))
        exit(0)
    }

    /// One line of the stage log (stderr).
    public static func log(_ line: String) { writeAll(fd: 2, line + "\n") }

    /// Reads the event, runs `body`, and finishes with its result; a thrown error (including a bad event)
    /// finishes the stage as failed with the error's description, so every way out is a result line.
    public static func main(_ body: (FunctionEvent) throws -> FunctionResult) -> Never {
        do {
            let event = try readEvent()
            finish(try body(event))
        } catch {
            let message = String(describing: error)
            log("error: \(message)")
            finish(FunctionResult(status: .failed, message: message))
        }
    }

    // MARK: - Plumbing

    private static func send(_ message: FunctionMessage) { writeAll(fd: 1, message.line() + "\n") }

    /// Writes every byte, retrying on EINTR and partial writes (pipes may accept less than asked).
    private static func writeAll(fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
            }
        }
    }

    private static func readAll(fd: Int32) throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n > 0 { result.append(contentsOf: chunk[0..<n]) }
            else if n == 0 { return result }
            else if errno == EINTR { continue }
            else { throw FunctionFailure("cannot read the event from stdin: \(String(cString: strerror(errno)))") }
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let ctx):
            let parent = path(ctx.codingPath)
            return "missing key \"\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)\""
        case .typeMismatch(let type, let ctx):
            return "\"\(path(ctx.codingPath))\" has the wrong type (expected \(type))"
        case .valueNotFound(let type, let ctx):
            return "\"\(path(ctx.codingPath))\" is null (expected \(type))"
        case .dataCorrupted(let ctx):
            return ctx.codingPath.isEmpty ? "not valid JSON" : "\"\(path(ctx.codingPath))\": \(ctx.debugDescription)"
        @unknown default:
            return String(describing: error)
        }
    }
}

/// A failure a function reports as its result message, worded for the person reading the stage.
public struct FunctionFailure: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
