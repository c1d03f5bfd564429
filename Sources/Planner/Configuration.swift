/// One repository from the server config: where the planner fetches from and which branch it deploys.
public struct RepositoryConfig: Sendable, Equatable {
    public var id: String
    public var remote: String      // any URL git can fetch
    public var branch: String

    public init(id: String, remote: String, branch: String) {
        self.id = id; self.remote = remote; self.branch = branch
    }
}

/// One platform from the server config. The planner only needs its name and kind to pick an app's platform.
public struct PlatformConfig: Sendable, Equatable {
    public var name: String
    public var kind: String        // kubernetes | lambda | cloudrun | terraform | ecs

    public init(name: String, kind: String) {
        self.name = name; self.kind = kind
    }
}
