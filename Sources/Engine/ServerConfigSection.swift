import FunctionKit

/// One section of the server config that functions may read (`serverConfig:` in function.yaml), as the engine hands
/// it over: the section's value for the event, with every secret in it already replaced by `{"secret": NAME}`, and
/// those secrets' values, delivered as files to a function that reads the section. The engine knows no section by
/// name; the server decides which sections exist and what in them is secret.
public struct ServerConfigSection: Sendable, Equatable {
    public var value: JSONValue
    /// Secret name -> value; each name appears in `value` as `{"secret": NAME}`.
    public var secrets: [String: String]
    public init(value: JSONValue, secrets: [String: String] = [:]) { self.value = value; self.secrets = secrets }
}
