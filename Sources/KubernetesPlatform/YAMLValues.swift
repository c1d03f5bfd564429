import FunctionKit
import RepositoryYAML
import Yams

/// YAML text to JSON values and back, for manifests and app configs. Scalars keep their text unless YAML's
/// core schema makes them null, a boolean or a number: a timestamp-looking annotation stays text, as in Kubernetes.
public enum YAMLValues {
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// Every document of a YAML stream (empty documents skipped); `file` names the source in errors.
    public static func documents(_ text: String, file: String) throws -> [JSONValue] {
        do {
            var out: [JSONValue] = []
            let parser = try RepositoryYAML.parser(text)
            while let node = try parser.nextRoot() {
                let value = convert(node)
                if !value.isNull { out.append(value) }
            }
            return out
        } catch let over as RepositoryYAML.OverBudget {
            throw Problem("\(file)\(over.line.map { " line \($0)" } ?? ""): \(over.reason)")
        } catch let error as YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                 .composer(_, let problem, let mark, _):
                throw Problem("\(file) line \(mark.line): invalid YAML: \(problem)")
            default:
                throw Problem("\(file): invalid YAML: \(error)")
            }
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

    static func convert(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let s):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(s.string)
            case Tag.Name.int.rawValue: return node.int.map { .number(Double($0)) } ?? .string(s.string)
            case Tag.Name.float.rawValue:
                if let d = node.float, d.isFinite { return .number(d) }
                return .string(s.string)
            default: return .string(s.string)
            }
        case .mapping(let m):
            var out: [String: JSONValue] = [:]
            for (k, v) in m { out[k.scalar?.string ?? ""] = convert(v) }
            return .object(out)
        case .sequence(let seq):
            return .array(seq.map(convert))
        case .alias:
            return .null
        }
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
