import Foundation

/// A JSON value read without a schema: webhook payloads are hints from outside, so every field is looked
/// up by hand and a missing or mistyped one becomes a reason to ignore the delivery, never a decoding crash.
enum LooseJSON: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([LooseJSON])
    case object([String: LooseJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([LooseJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: LooseJSON].self))
        }
    }

    /// nil when the bytes are not JSON (JSONDecoder also bounds the nesting depth).
    static func parse(_ bytes: [UInt8]) -> LooseJSON? {
        try? JSONDecoder().decode(LooseJSON.self, from: Data(bytes))
    }

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
    var isObject: Bool { if case .object = self { return true }; return false }
}
