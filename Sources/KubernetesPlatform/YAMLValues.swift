import FunctionKit
import RepositoryYAML
import Yams

/// YAML text to JSON values and back, for manifests and app configs. Scalars are typed as `RepositoryYAML.json`
/// types them: a timestamp-looking annotation stays text, as in Kubernetes.
public enum YAMLValues {
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// Every document of a YAML stream (empty documents skipped); `file` names the source in errors.
    public static func documents(_ text: String, file: String) throws -> [JSONValue] {
        do {
            return try RepositoryYAML.readAll(text).map(RepositoryYAML.json).filter { !$0.isNull }
        } catch let unreadable as RepositoryYAML.Unreadable {
            throw Problem(RepositoryYAML.Problem(unreadable, file: file).description)
        }
    }

    /// One YAML document (e.g. an app config or an embedded document of a patch target).
    public static func document(_ text: String, file: String) throws -> JSONValue {
        try documents(text, file: file).first ?? .null
    }

    /// A value as YAML text (for patches into embedded documents).
    public static func yaml(_ value: JSONValue) throws -> String {
        try Yams.serialize(node: node(value))
    }

    static func node(_ value: JSONValue) -> Node {
        switch value {
        case .null: return Node("null", Tag(.null))
        case .bool(let b): return Node(b ? "true" : "false", Tag(.bool))
        case .number: return Node(value.string ?? "0", Tag(.float))
        case .string(let s): return Node(s, Tag(.str), .plain)
        case .array(let a): return Node(a.map(node))
        case .object(let o): return Node(o.sorted { $0.key < $1.key }.map { (Node($0.key), node($0.value)) })
        }
    }
}
