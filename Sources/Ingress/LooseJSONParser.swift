/// Which parts of a payload a receiver reads. The rest is checked for syntax and skipped without building
/// anything: a GitHub push is ~8 KB of which a dozen fields matter, and building all of it was most of the
/// ingest time. A container where the shape expects something else keeps its type but not its content, so
/// "mistyped field" answers stay the same.
indirect enum PayloadShape: Sendable {
    /// Everything below, as it is.
    case all
    /// An object's listed members (each with its own shape).
    case fields([String: PayloadShape])
    /// Every element of an array, each read with this shape.
    case elements(PayloadShape)

    static func fields(_ names: String...) -> PayloadShape { .fields(Dictionary(uniqueKeysWithValues: names.map { ($0, .all) })) }
}

/// A small JSON reader for webhook payloads, straight from the received bytes into `LooseJSON`: Foundation's
/// decoder needs a `Data` copy and throws its way through every type a value is not, several times slower on
/// the ingest path. Strict RFC 8259 (no trailing commas, no comments; UTF-8 checked in the values kept), with
/// a nesting limit so a hostile `[[[[…` cannot exhaust the stack.
struct LooseJSONParser {
    static let maxDepth = 256

    private let bytes: [UInt8]
    private var index = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// nil when the bytes are not exactly one JSON value (whitespace around it allowed).
    static func parse(_ bytes: [UInt8], shape: PayloadShape = .all) -> LooseJSON? {
        var parser = LooseJSONParser(bytes)
        guard let value = parser.value(depth: 0, shape: shape) else { return nil }
        parser.skipWhitespace()
        return parser.index == bytes.count ? value : nil
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int, shape: PayloadShape) -> LooseJSON? {
        guard depth < Self.maxDepth else { return nil }
        skipWhitespace()
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            switch shape {
            case .all: return object(depth: depth, fields: nil)
            case .fields(let fields): return object(depth: depth, fields: fields)
            case .elements: return skip(depth: depth) ? .object([:]) : nil
            }
        case UInt8(ascii: "["):
            switch shape {
            case .all: return array(depth: depth, element: .all)
            case .elements(let element): return array(depth: depth, element: element)
            case .fields: return skip(depth: depth) ? .array([]) : nil
            }
        case UInt8(ascii: "\""): return string().map(LooseJSON.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return number()
        }
    }

    private mutating func literal(_ word: StaticString, _ value: LooseJSON) -> LooseJSON? {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return nil }
        let matches = word.withUTF8Buffer { expected in
            expected.indices.allSatisfy { bytes[index + $0] == expected[$0] }
        }
        guard matches else { return nil }
        index += count
        return value
    }

    /// `wanted`: the members to keep (nil: all); the others are skipped.
    private mutating func object(depth: Int, fields wanted: [String: PayloadShape]?) -> LooseJSON? {
        index += 1   // {
        var fields: [String: LooseJSON] = [:]
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(fields) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = string() else { return nil }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            if let wanted, wanted[key] == nil {
                guard skip(depth: depth + 1) else { return nil }
            } else {
                guard let member = value(depth: depth + 1, shape: wanted?[key] ?? .all) else { return nil }
                fields[key] = member   // a repeated key: the last one wins, as in most parsers
            }
            skipWhitespace()
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(fields) }
            return nil
        }
    }

    private mutating func array(depth: Int, element shape: PayloadShape) -> LooseJSON? {
        index += 1   // [
        var elements: [LooseJSON] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
        while true {
            guard let element = value(depth: depth + 1, shape: shape) else { return nil }
            elements.append(element)
            skipWhitespace()
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
            return nil
        }
    }

    /// Checks the syntax of one value and moves past it, building nothing. False when it is not JSON.
    private mutating func skip(depth: Int) -> Bool {
        guard depth < Self.maxDepth else { return false }
        skipWhitespace()
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case UInt8(ascii: "\""): return skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let isObject = bytes[index] == UInt8(ascii: "{")
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == close { index += 1; return true }
            while true {
                if isObject {
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), skipString() else { return false }
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return false }
                    index += 1
                }
                guard skip(depth: depth + 1) else { return false }
                skipWhitespace()
                guard index < bytes.count else { return false }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == close { index += 1; return true }
                return false
            }
        default:
            return value(depth: depth, shape: .all) != nil   // a literal or a number: nothing to allocate
        }
    }

    private mutating func skipString() -> Bool { string(keep: false) != nil }

    /// A string starting at its opening quote: decoded and UTF-8 validated when `keep`, otherwise only checked
    /// (escapes, no raw control characters) and moved past, returning "". nil when it is not a JSON string.
    private mutating func string(keep: Bool = true) -> String? {
        index += 1   // "
        let first = index
        var start = index
        var out: [UInt8] = []
        while true {
            // Plain characters in bulk (most of a payload), without per-byte bounds checks.
            index = bytes.withUnsafeBufferPointer { buffer in
                var i = index
                while i < buffer.count {
                    let byte = buffer[i]
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                    i += 1
                }
                return i
            }
            guard index < bytes.count else { return nil }   // unterminated
            let byte = bytes[index]
            guard byte >= 0x20 else { return nil }          // control characters must be escaped
            if byte == UInt8(ascii: "\""), keep, out.isEmpty, start == first {
                index += 1
                return Self.text(bytes, start..<index - 1)  // no escapes: straight from the payload's bytes
            }
            if keep { out.append(contentsOf: bytes[start..<index]) }
            index += 1
            if byte == UInt8(ascii: "\"") {
                guard keep else { return "" }
                return Self.text(out, 0..<out.count)
            }
            // A backslash: one escape.
            guard index < bytes.count else { return nil }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard let scalar = unicodeEscape() else { return nil }
                if keep { out.append(contentsOf: Array(String(Character(scalar)).utf8)) }
            default: return nil
            }
            start = index
        }
    }

    /// After `\u`: four hex digits, or a surrogate pair written as two escapes.
    private mutating func unicodeEscape() -> Unicode.Scalar? {
        guard let high = hex4() else { return nil }
        if (0xD800...0xDBFF).contains(high) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                return nil
            }
            index += 2
            guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        }
        return Unicode.Scalar(high)   // nil for a lone low surrogate
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        index += 4
        return value
    }

    /// -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
    private mutating func number() -> LooseJSON? {
        let start = index
        func digits() -> Int {
            let from = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - from
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "0") { index += 1 } else { guard digits() > 0 else { return nil } }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return nil }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return nil }
        }
        guard let text = Self.text(bytes, start..<index), let value = Double(text) else { return nil }
        return .number(value)
    }

    /// The UTF-8 text of `range`, nil when it is not valid UTF-8. Payload text is nearly all ASCII, which is
    /// valid by construction and takes the fast path.
    private static func text(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
        bytes.withUnsafeBufferPointer { buffer in
            let slice = UnsafeBufferPointer(rebasing: buffer[range])
            if !slice.contains(where: { $0 >= 0x80 }) { return String(decoding: slice, as: UTF8.self) }
            return String(validating: slice, as: UTF8.self)
        }
    }
}
