/// The answer of an action and of every refusal: `status` is `error` on a refusal, `reason` says why.
public struct Message: Codable, Sendable, Equatable {
    public var status: String
    public var reason: String
    public var id: String?
    public init(status: String, reason: String, id: String? = nil) {
        self.status = status; self.reason = reason; self.id = id
    }
}
