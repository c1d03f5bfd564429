import FunctionKit
import Yams

/// One field of a YAML document, reached from the root by keys and list positions: its node, the path that names
/// it in messages (`spec.pipeline.stages[0].name`) and the line it is written on, so a problem with it points at
/// the place to fix ("function.yaml line 9: spec.memory must be a whole number from 128 to 10240, not 64").
/// A field that is missing, or written as null (`key:`, `key: ~`), has no node and takes its parent's line.
public struct YAMLField {
    public let node: Node?
    public let path: String
    /// The line of the key that names the field (a list item's own line); a missing field's parent's line.
    public let line: Int?
    /// Names the file in problems; nil when whoever reports them adds it.
    public let file: String?

    public init(root: Node?, file: String? = nil) {
        self.init(node: root, path: "", line: root?.mark?.line, file: file)
    }

    init(node: Node?, path: String, line: Int?, file: String?) {
        self.node = node.flatMap { Self.isNull($0) ? nil : $0 }
        self.path = path; self.line = line; self.file = file
    }

    /// The first document of `text`, read within `budget`, as the root field (without a node for an empty file).
    /// Throws a `RepositoryYAML.Problem` naming `file` and the line.
    public static func document(_ text: String, file: String? = nil,
                                budget: RepositoryYAML.Budget = .standard) throws -> YAMLField {
        do { return YAMLField(root: try RepositoryYAML.read(text, budget: budget), file: file) } catch {
            throw RepositoryYAML.Problem(RepositoryYAML.Unreadable(error), file: file)
        }
    }

    public var isMissing: Bool { node == nil }

    /// A problem with this field, at its line.
    public func problem(_ message: String) -> RepositoryYAML.Problem {
        RepositoryYAML.Problem(file: file, line: line, message: message)
    }

    /// "spec must be a mapping, not a list".
    public func mustBe(_ expected: String) -> RepositoryYAML.Problem {
        problem("\(path.isEmpty ? "the document" : path) must be \(expected), not \(Self.describe(node))")
    }

    /// This field, or "spec.role is missing" when it is not there.
    public func required() throws -> YAMLField {
        guard node != nil else { throw problem("\(path) is missing") }
        return self
    }

    private static func isNull(_ node: Node) -> Bool {
        if case .scalar = node, node.tag.rawValue == Tag.Name.null.rawValue { return true }
        return false
    }

    /// A node as a message names it: a number or boolean as written, other text quoted, a collection by its kind.
    static func describe(_ node: Node?) -> String {
        switch node {
        case nil: return "null"
        case .mapping?: return "a mapping"
        case .sequence?: return "a list"
        case .alias?: return "an alias"
        case .scalar(let s)?:
            let bare = [Tag.Name.int, .float, .bool, .null].map(\.rawValue)
            return bare.contains(s.tag.rawValue) ? s.string : "\"\(s.string.prefix(40))\""
        }
    }
}

extension YAMLField {
    /// The field at `key` of this mapping. Throws when this field is there but is not a mapping.
    public func field(_ key: String) throws -> YAMLField {
        let childPath = path.isEmpty ? key : "\(path).\(key)"
        guard let node else { return YAMLField(node: nil, path: childPath, line: line, file: file) }
        guard let mapping = node.mapping else { throw mustBe("a mapping") }
        // The last pair with this key, as Yams' own lookup takes it.
        let probe = Node(key, mapping.tag.copy(with: .implicit))
        var found: (key: Node, value: Node)?
        for pair in mapping where pair.key == probe { found = pair }
        guard let found else { return YAMLField(node: nil, path: childPath, line: line, file: file) }
        return YAMLField(node: found.value, path: childPath, line: found.key.mark?.line ?? line, file: file)
    }

    /// The field at a dotted path of keys below this one ("spec.input.aliasName").
    public func at(_ dottedPath: String) throws -> YAMLField {
        try dottedPath.split(separator: ".").reduce(self) { try $0.field(String($1)) }
    }

    /// This field after checking it is a mapping (or missing), for a mapping read only in parts.
    public func mapping() throws -> YAMLField {
        guard let node, node.mapping == nil else { return self }
        throw mustBe("a mapping")
    }

    /// The key-value pairs of this mapping in the order written; none when missing.
    public func entries() throws -> [(key: String, value: YAMLField)] {
        guard let node else { return [] }
        guard let mapping = node.mapping else { throw mustBe("a mapping") }
        return mapping.map { k, v in
            let key = k.scalar?.string ?? ""
            return (key, YAMLField(node: v, path: path.isEmpty ? key : "\(path).\(key)", line: k.mark?.line ?? line, file: file))
        }
    }

    /// The items of this list; none when missing.
    public func items() throws -> [YAMLField] {
        guard let node else { return [] }
        guard case .sequence(let items) = node else { throw mustBe("a list") }
        return items.enumerated().map { i, item in
            YAMLField(node: item, path: "\(path)[\(i)]", line: item.mark?.line ?? line, file: file)
        }
    }
}

extension YAMLField {
    /// A scalar as written; numbers and booleans as their text (a name may be `2024`, a version `1.10`).
    public func string() throws -> String? {
        guard let node else { return nil }
        guard let scalar = node.scalar else { throw mustBe("a string") }
        return scalar.string
    }

    /// A scalar as written, which must not be empty.
    public func nonEmptyString() throws -> String? {
        guard let text = try string() else { return nil }
        guard !text.isEmpty else { throw mustBe("a string") }
        return text
    }

    /// `true` or `false` as YAML's core schema reads them.
    public func bool() throws -> Bool? {
        guard let node else { return nil }
        if node.scalar != nil, node.tag.rawValue == Tag.Name.bool.rawValue, let b = node.bool { return b }
        throw mustBe("true or false")
    }

    /// A whole number within `range`; quoted digits count too.
    public func int(in range: ClosedRange<Int>) throws -> Int? {
        guard let node else { return nil }
        guard let n = node.float, n.isFinite, n.rounded() == n, Double(range.lowerBound) <= n, n <= Double(range.upperBound) else {
            throw mustBe("a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(n)
    }

    /// A list of scalars as written; none when missing.
    public func stringList() throws -> [String] {
        try items().map { item in
            guard let text = try item.string() else { throw item.mustBe("a string") }
            return text
        }
    }

    /// A mapping of names to scalars as written (`PORT: 8080` is "8080", `KEY:` is ""); empty when missing.
    public func stringMap() throws -> [String: String] {
        var out: [String: String] = [:]
        for (key, value) in try entries() { out[key] = try value.string() ?? "" }
        return out
    }

    /// The field's value as JSON (`RepositoryYAML.json`); nil when missing.
    public var json: JSONValue? { node.map(RepositoryYAML.json) }
}
