import FunctionKit
import Yams

extension RepositoryYAML {
    /// Any YAML value as JSON, keeping what was written: a scalar stays text unless YAML's core schema makes it
    /// null, a boolean or a number (`60%`, `10s` and a timestamp-looking annotation stay strings, `3` becomes a
    /// number, an integer too large for a number stays text so nothing is rounded on its way to a platform).
    public static func json(_ node: Node) -> JSONValue {
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
            for (k, v) in m { out[k.scalar?.string ?? ""] = json(v) }
            return .object(out)
        case .sequence(let seq):
            return .array(seq.map(json))
        case .alias:
            return .null
        }
    }
}
