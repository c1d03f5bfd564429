/// A JSON value read without a schema: webhook payloads are hints from outside, so every field is looked
/// up by hand and a missing or mistyped one becomes a reason to ignore the delivery, never a decoding crash.
enum LooseJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([LooseJSON])
    case object([String: LooseJSON])

    /// nil when the bytes are not JSON (nesting is bounded too). `shape`: the parts kept (the rest is skipped).
    static func parse(_ bytes: [UInt8], shape: PayloadShape = .all) -> LooseJSON? { LooseJSONParser.parse(bytes, shape: shape) }

    subscript(key: String) -> LooseJSON? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    /// Follows object keys; nil as soon as one is missing or the value is not an object.
    subscript(path keys: String...) -> LooseJSON? {
        var value: LooseJSON? = self
        for key in keys { value = value?[key] }
        return value
    }

    var string: String? { if case .string(let value) = self { return value }; return nil }
    var array: [LooseJSON]? { if case .array(let value) = self { return value }; return nil }
    /// A string that is not empty: display fields and URLs treat "" like absent.
    var text: String? { if case .string(let value) = self, !value.isEmpty { return value }; return nil }
    var bool: Bool? { if case .bool(let value) = self { return value }; return nil }
    /// A whole number above zero (pull request numbers), nil for fractions, zero, negatives and other types.
    var positiveInteger: Int? {
        guard case .number(let value) = self, value >= 1, value <= 1e15, value.rounded() == value else { return nil }
        return Int(value)
    }
    var isObject: Bool { if case .object = self { return true }; return false }
}
