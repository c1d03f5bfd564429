/// Cuts a byte stream into lines with a bounded buffer: memory stays bounded whatever a function writes.
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
        var start = 0
        let count = bytes.count
        while start < count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[start...])
            if let nl = rest.firstIndex(of: UInt8(ascii: "\n")) {
                let piece = UnsafeRawBufferPointer(rebasing: rest[..<nl])
                if !append(piece, line: line) { return false }
                emit(line)
                start += nl + 1
            } else {
                if !append(rest, line: line) { return false }
                start = count
            }
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
        if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
        pending.withUnsafeBytes { line($0) }
        pending.removeAll(keepingCapacity: pending.count <= 64 * 1024)
    }
}
