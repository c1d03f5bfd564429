import CYaml
import Yams

/// Gantry's one YAML reader: every file (app configs and manifests from repositories, function.yaml, the server
/// config) is read within budgets. Anyone who can push controls repository files, so a few hundred bytes must
/// never become gigabytes: an alias bomb is small on disk and huge once its aliases are expanded, and deep nesting
/// overflows a recursive reader's stack. Before anything is built, one pass over libyaml's event stream counts what
/// a reader would see with every alias expanded (without expanding it) and how deep it nests; only a stream within
/// the budget is composed.
public enum RepositoryYAML {
    public struct Budget: Sendable, Equatable {
        /// Bytes of the file.
        public var maxBytes: Int
        /// Nodes (scalars, lists, mappings) with every alias counted as the nodes it stands for.
        public var maxNodes: Int
        /// Lists and mappings inside each other, aliases included.
        public var maxDepth: Int

        public init(maxBytes: Int, maxNodes: Int, maxDepth: Int) {
            self.maxBytes = maxBytes; self.maxNodes = maxNodes; self.maxDepth = maxDepth
        }

        /// Generous for real configs and manifests (a large CRD has a few thousand nodes and depth ~20).
        public static let standard = Budget(maxBytes: 4 << 20, maxNodes: 100_000, maxDepth: 64)
    }

    /// A file over its budget; `line` is where the reader was when it went over (1-based).
    public struct OverBudget: Error, CustomStringConvertible, Sendable, Equatable {
        public let line: Int?
        public let reason: String
        public var description: String { (line.map { "line \($0): " } ?? "") + reason }
        public init(line: Int?, reason: String) { self.line = line; self.reason = reason }
    }

    /// The first document, composed only when the whole stream is within the budget.
    public static func compose(_ text: String, budget: Budget = .standard) throws -> Node? {
        try check(text, budget: budget)
        return try Yams.compose(yaml: text)
    }

    /// A parser over every document of the stream, handed out only when the stream is within the budget.
    public static func parser(_ text: String, budget: Budget = .standard) throws -> Parser {
        try check(text, budget: budget)
        return try Parser(yaml: text)
    }

    /// Throws `OverBudget` when the stream is too large, too big once aliases are expanded, or too deep. Syntax
    /// errors are left to the reader that composes the text next, which reports them with their line.
    public static func check(_ text: String, budget: Budget = .standard) throws {
        let bytes = text.utf8.count
        if bytes > budget.maxBytes {
            throw OverBudget(line: nil, reason: "the file has \(bytes) bytes; the limit is \(budget.maxBytes)")
        }
        var counter = Counter(budget: budget)
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        var utf8 = Array(text.utf8)
        try utf8.withUnsafeMutableBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return }
                try counter.take(event)
            }
        }
    }

    /// Sizes and depths of anchored nodes, so an alias costs what it expands to.
    private struct Counter {
        struct Open { var anchor: String?; var startCount: Int; var startDepth: Int; var deepest: Int }
        let budget: Budget
        var nodes = 0
        var open: [Open] = []
        var anchors: [String: (size: Int, depth: Int)] = [:]

        init(budget: Budget) { self.budget = budget }

        mutating func take(_ event: yaml_event_t) throws {
            let line = Int(event.start_mark.line) + 1
            switch event.type {
            case YAML_SCALAR_EVENT:
                try add(size: 1, depth: 0, line: line)
                if let anchor = Self.text(event.data.scalar.anchor) { anchors[anchor] = (1, 0) }
            case YAML_ALIAS_EVENT:
                let name = Self.text(event.data.alias.anchor) ?? ""
                let target = anchors[name] ?? (1, 0)
                try add(size: target.size, depth: target.depth, line: line)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                try add(size: 1, depth: 0, line: line)
                let anchor = event.type == YAML_SEQUENCE_START_EVENT
                    ? Self.text(event.data.sequence_start.anchor) : Self.text(event.data.mapping_start.anchor)
                let depth = open.count + 1
                if depth > budget.maxDepth {
                    throw OverBudget(line: line, reason: "lists and mappings nest deeper than \(budget.maxDepth) levels")
                }
                open.append(Open(anchor: anchor, startCount: nodes, startDepth: depth, deepest: depth))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let closed = open.popLast() else { return }
                if let anchor = closed.anchor {
                    anchors[anchor] = (nodes - closed.startCount + 1, closed.deepest - closed.startDepth + 1)
                }
                if !open.isEmpty { open[open.count - 1].deepest = max(open[open.count - 1].deepest, closed.deepest) }
            case YAML_DOCUMENT_START_EVENT:
                // Anchors do not cross documents.
                anchors = [:]
            default:
                break
            }
        }

        /// Counts a node of `size` nodes reaching `depth` levels below the current one.
        private mutating func add(size: Int, depth: Int, line: Int) throws {
            nodes += size
            if nodes > budget.maxNodes {
                throw OverBudget(line: line, reason: "more than \(budget.maxNodes) YAML nodes once aliases are expanded")
            }
            let reached = open.count + depth
            if reached > budget.maxDepth {
                throw OverBudget(line: line, reason: "lists and mappings nest deeper than \(budget.maxDepth) levels "
                                 + "once aliases are expanded")
            }
            if !open.isEmpty { open[open.count - 1].deepest = max(open[open.count - 1].deepest, reached) }
        }

        private static func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            guard let pointer else { return nil }
            return String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
        }
    }
}
