import FunctionKit
import RepositoryYAML
import Yams

/// A YAML file read into JSON values, remembering the line each dotted path was written on, so a message about
/// a bad field can point at it ("function.yaml line 7: spec.memory must be a whole number").
struct YAMLDocument {
    let file: String
    let root: JSONValue
    let lines: [String: Int]
    /// Each scalar as it was written, so `VERSION: 1.10` stays "1.10" where text is wanted.
    let texts: [String: String]

    struct Problem: Error, CustomStringConvertible, Sendable {
        let description: String
    }

    init(text: String, file: String) throws {
        self.file = file
        let node: Node?
        do { node = try RepositoryYAML.compose(text) } catch let over as RepositoryYAML.OverBudget {
            throw Problem(description: "\(file)\(over.line.map { " line \($0)" } ?? ""): \(over.reason)")
        } catch let error as YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                 .composer(_, let problem, let mark, _):
                throw Problem(description: "\(file) line \(mark.line): invalid YAML: \(problem)")
            default:
                throw Problem(description: "\(file): invalid YAML: \(error)")
            }
        }
        guard let node else { throw Problem(description: "\(file) is empty") }
        var lines: [String: Int] = [:], texts: [String: String] = [:]
        root = Self.convert(node, path: "", lines: &lines, texts: &texts)
        self.lines = lines; self.texts = texts
    }

    func value(_ path: String) -> JSONValue? {
        var current: JSONValue? = root
        for key in path.split(separator: ".") { current = current?[String(key)] }
        if current?.isNull == true { return nil }
        return current
    }

    func problem(_ path: String, _ message: String) -> Problem {
        // The nearest enclosing path that has a line (a missing key points at its parent).
        var probe = Substring(path)
        while !probe.isEmpty, lines[String(probe)] == nil {
            probe = probe.lastIndex(of: ".").map { probe[..<$0] } ?? ""
        }
        let line = lines[String(probe)].map { " line \($0)" } ?? ""
        return Problem(description: "\(file)\(line): \(message)")
    }

    func string(_ path: String, required: Bool = false) throws -> String? {
        guard let v = value(path) else {
            if required { throw problem(path, "\(path) is missing") }
            return nil
        }
        guard case .string(let s) = v, !s.isEmpty else {
            if case .number = v { return v.string }
            throw problem(path, "\(path) must be text, not \(v.encoded())")
        }
        return s
    }

    func int(_ path: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let v = value(path) else { return nil }
        guard let n = v.number, n.rounded() == n, range.contains(Int(n)) else {
            throw problem(path, "\(path) must be a whole number from \(range.lowerBound) to \(range.upperBound), not \(v.encoded())")
        }
        return Int(n)
    }

    /// A mapping of text values; numbers and booleans are taken as written (`PORT: 8080` is "8080").
    func stringMap(_ path: String) throws -> [String: String] {
        guard let v = value(path) else { return [:] }
        guard let object = v.object else { throw problem(path, "\(path) must be a mapping of names to values") }
        var out: [String: String] = [:]
        for (key, item) in object {
            guard let text = item.isNull ? "" : texts["\(path).\(key)"] ?? item.string else {
                throw problem("\(path).\(key)", "\(path).\(key) must be a text value, not \(item.encoded())")
            }
            out[key] = text
        }
        return out
    }

    func stringList(_ path: String) throws -> [String] {
        guard let v = value(path) else { return [] }
        guard let items = v.array else { throw problem(path, "\(path) must be a list") }
        return try items.map { item in
            guard let s = item.string else { throw problem(path, "\(path) must be a list of text values") }
            return s
        }
    }

    private static func convert(_ node: Node, path: String, lines: inout [String: Int],
                                texts: inout [String: String]) -> JSONValue {
        if let line = node.mark?.line, lines[path] == nil { lines[path] = line }
        switch node {
        case .scalar(let s):
            texts[path] = s.string
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(s.string)
            case Tag.Name.int.rawValue, Tag.Name.float.rawValue:
                if let d = node.float, d.isFinite { return .number(d) }
                return .string(s.string)
            default: return .string(s.string)
            }
        case .mapping(let m):
            var out: [String: JSONValue] = [:]
            for (k, v) in m {
                let key = k.scalar?.string ?? ""
                let child = path.isEmpty ? key : "\(path).\(key)"
                if let line = k.mark?.line { lines[child] = line }
                out[key] = convert(v, path: child, lines: &lines, texts: &texts)
            }
            return .object(out)
        case .sequence(let seq):
            var items: [JSONValue] = []
            for (i, item) in seq.enumerated() { items.append(convert(item, path: "\(path).\(i)", lines: &lines, texts: &texts)) }
            return .array(items)
        case .alias:
            return .null
        }
    }
}
