import Yams

extension RepositoryYAML {
    /// Why a text could not be read as YAML: libyaml's syntax error, a key written twice in one mapping, or a
    /// budget exceeded. `line` is 1-based, nil where the reader could not tell.
    public struct Unreadable: Error, CustomStringConvertible, Sendable, Equatable {
        public enum Cause: Sendable, Equatable { case syntax, duplicateKeys, overBudget }

        public let cause: Cause
        public let line: Int?
        /// libyaml's own words, the keys written twice, or the budget that was exceeded.
        public let reason: String

        public init(cause: Cause, line: Int?, reason: String) { self.cause = cause; self.line = line; self.reason = reason }

        /// Classifies what reading a text threw: `OverBudget` from the budget check, `YamlError` from Yams.
        public init(_ error: any Error) {
            if let unreadable = error as? Unreadable { self = unreadable; return }
            if let over = error as? OverBudget { self.init(cause: .overBudget, line: over.line, reason: over.reason); return }
            guard let yaml = error as? YamlError else { self.init(cause: .syntax, line: nil, reason: Self.firstLine(error)); return }
            switch yaml {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
                self.init(cause: .syntax, line: mark.line, reason: problem)
            case .reader(let problem, _, _, _):
                self.init(cause: .syntax, line: nil, reason: problem)
            case .duplicatedKeysInMapping(let duplicates, let context):
                self.init(cause: .duplicateKeys, line: context.mark.line, reason: "duplicate key " + duplicates.joined(separator: ", "))
            default:
                self.init(cause: .syntax, line: nil, reason: Self.firstLine(yaml))
            }
        }

        /// The reason as a message: a syntax error says it is one ("invalid YAML: did not find expected ']'").
        public var message: String { cause == .syntax ? "invalid YAML: " + reason : reason }

        public var description: String { (line.map { "line \($0): " } ?? "") + message }

        private static func firstLine(_ error: any Error) -> String {
            String(describing: error).split(separator: "\n").first.map(String.init) ?? "unreadable"
        }
    }

    /// The first document of `text`, nil for an empty stream, read within `budget`. Throws only `Unreadable`.
    public static func read(_ text: String, budget: Budget = .standard) throws -> Node? {
        do { return try compose(text, budget: budget) } catch { throw Unreadable(error) }
    }

    /// Every document of `text` (a manifest file may hold several), read within `budget`. Throws only `Unreadable`.
    public static func readAll(_ text: String, budget: Budget = .standard) throws -> [Node] {
        do {
            let stream = try parser(text, budget: budget)
            var documents: [Node] = []
            while let node = try stream.nextRoot() { documents.append(node) }
            return documents
        } catch {
            throw Unreadable(error)
        }
    }
}
