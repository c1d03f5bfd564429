import Synchronization

/// Parsed application configs keyed by the config file's blob id: a push that touches one app of a monorepo
/// re-reads and re-parses only the configs whose content changed, not the thousand that did not. The kinds the
/// functions declared are part of the key: a function added or removed changes what a config file means.
final class ConfigCache: Sendable {
    typealias Parsed = Result<AppConfig?, ConfigProblem>
    struct Key: Hashable { var object: String; var strict: Bool; var kinds: AppKinds }

    /// Bounded: a repository with more config files than this still works, it only parses more often.
    let capacity: Int
    private let entries = Mutex<[Key: Parsed]>([:])

    init(capacity: Int = 20_000) { self.capacity = capacity }

    func parsed(_ key: Key) -> Parsed? { entries.withLock { $0[key] } }

    func store(_ parsed: Parsed, for key: Key) {
        entries.withLock { entries in
            // Dropping everything at the bound is crude but O(1) amortised, and the next push refills what is used.
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = parsed
        }
    }
}
