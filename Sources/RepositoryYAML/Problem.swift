extension RepositoryYAML {
    /// A problem with a YAML file or one of its fields, at the line to fix:
    /// "apps/web/app.pipecd.yaml line 7: spec.timeout must be a string, not a list".
    public struct Problem: Error, CustomStringConvertible, Sendable, Equatable {
        /// The file as the reader names it; nil when whoever reports the problem adds it (`text(file:)`).
        public var file: String?
        public var line: Int?
        public var message: String

        public init(file: String? = nil, line: Int?, message: String) {
            self.file = file; self.line = line; self.message = message
        }

        /// A text that could not be read, as a problem of `file`.
        public init(_ unreadable: Unreadable, file: String?) {
            self.init(file: file, line: unreadable.line, message: unreadable.message)
        }

        public var description: String {
            if let file { return text(file: file) }
            return (line.map { "line \($0): " } ?? "") + message
        }

        /// The problem as it reads in `file`.
        public func text(file: String) -> String {
            if let line { return "\(file) line \(line): \(message)" }
            return "\(file): \(message)"
        }
    }
}
