#if canImport(Glibc)
import Glibc
#endif

/// Cuts a byte stream into lines with a bounded buffer: memory stays bounded whatever a function writes.
/// Lines that arrive whole in one chunk are handed over without copying (a flood of short lines stays cheap).
struct LineSplitter {
    enum Overflow { case failLine, splitLine }

    let maxLine: Int
    let overflow: Overflow
    private var pending: [UInt8] = []

    init(maxLine: Int, overflow: Overflow) {
        self.maxLine = maxLine
        self.overflow = overflow
    }

    /// Feeds bytes, calling `line` for every complete line (without its "\n", a trailing "\r" removed); the
    /// bytes are only valid during the call, so a consumer that only looks at them never allocates.
    /// Returns false when a line grew beyond `maxLine` in `.failLine` mode; the splitter is then unusable.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, line: (UnsafeRawBufferPointer) -> Void) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var start = 0
        while start < bytes.count {
            guard let hit = memchr(base + start, 0x0A, bytes.count - start) else {
                return append(UnsafeRawBufferPointer(start: base + start, count: bytes.count - start), line: line)
            }
            let end = base.distance(to: UnsafeRawPointer(hit))
            let piece = UnsafeRawBufferPointer(start: base + start, count: end - start)
            if pending.isEmpty && piece.count <= maxLine {
                line(Self.withoutCR(piece))
            } else {
                if !append(piece, line: line) { return false }
                emit(line)
            }
            start = end + 1
        }
        return true
    }

    /// Emits what is left after EOF as a last line.
    mutating func finish(line: (UnsafeRawBufferPointer) -> Void) {
        if !pending.isEmpty { emit(line) }
    }

    private mutating func append(_ bytes: UnsafeRawBufferPointer, line: (UnsafeRawBufferPointer) -> Void) -> Bool {
        var slice = bytes[...]
        while pending.count + slice.count > maxLine {
            guard overflow == .splitLine else { return false }
            let room = maxLine - pending.count
            pending.append(contentsOf: slice.prefix(room))
            slice = slice.dropFirst(room)
            emit(line)
        }
        pending.append(contentsOf: slice)
        return true
    }

    private mutating func emit(_ line: (UnsafeRawBufferPointer) -> Void) {
        pending.withUnsafeBytes { line(Self.withoutCR($0)) }
        pending.removeAll(keepingCapacity: pending.count <= 64 * 1024)
    }

    private static func withoutCR(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard let last = bytes.last, last == 0x0D else { return bytes }
        return UnsafeRawBufferPointer(rebasing: bytes.dropLast())
    }
}
