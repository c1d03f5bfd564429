import Foundation
@testable import Ingress
import XCTest

/// Every payload field is optional: each fixture with each of its fields removed or given the wrong type (one
/// at a time, over a thousand variants), signed properly, is answered 2xx (accepted or ignored with a reason),
/// never a crash or a 4xx/5xx that would make a host disable the hook. (Random bytes: the fuzz test.)
final class PayloadMutationTests: XCTestCase {
    let fixtures: [(WebhookProvider, String, String, String)] = [
        (.github, "github", "push-new-branch", "master"), (.gitlab, "gitlab", "push", "master"),
        (.gitea, "gitea", "push", "master"), (.bitbucket, "bitbucket-cloud", "repo-push", "name-of-branch"),
        (.bitbucketServer, "bitbucket-server", "repo-refs-changed", "feature/wip"),
        (.azureDevOps, "azure-devops", "git-push", "main"),
    ]
    /// Removed, or a number: no field is read as a number, so that is "mistyped" for every one of them.
    let replacements: [Any?] = [nil, 5]

    func testEveryFieldRemovedOrMistypedIsAnsweredWithA2xx() async throws {
        var variants = 0
        for (provider, host, file, branch) in fixtures {
            let original = try JSONSerialization.jsonObject(with: Data(try HostSigning.fixture(host, file)))
            let harness = try IngressHarness(bindings: [HostSigning.binding(provider, branch: branch, remote: nil)])
            for path in Self.paths(in: original) {
                for replacement in replacements {
                    let mutated = Self.replacing(path, in: original, with: replacement)
                    let body = Array(try JSONSerialization.data(withJSONObject: mutated))
                    let reply = await harness.ingress.handle(binding: "hook",
                                                             headers: HostSigning.headers(provider, body: body), body: body)
                    variants += 1
                    XCTAssertTrue([200, 202].contains(reply.status), "\(host) \(path) = \(String(describing: replacement)): "
                                  + "\(reply.status) \(reply.reason)")
                    XCTAssertFalse(reply.reason.isEmpty)
                }
            }
        }
        XCTAssertGreaterThan(variants, 1000)
    }

    enum Step: CustomStringConvertible {
        case key(String), index(Int)
        var description: String { switch self { case .key(let k): return k; case .index(let i): return "[\(i)]" } }
    }

    /// Every path to a value (objects' keys; of arrays, the first element: the others read the same), depth first.
    static func paths(in value: Any, prefix: [Step] = []) -> [[Step]] {
        var result: [[Step]] = []
        if let object = value as? [String: Any] {
            for (key, child) in object.sorted(by: { $0.key < $1.key }) {
                result.append(prefix + [.key(key)])
                result += paths(in: child, prefix: prefix + [.key(key)])
            }
        } else if let array = value as? [Any] {
            for (index, child) in array.prefix(1).enumerated() {
                result.append(prefix + [.index(index)])
                result += paths(in: child, prefix: prefix + [.index(index)])
            }
        }
        return result
    }

    /// `value` with the element at `path` replaced (nil removes it).
    static func replacing(_ path: [Step], in value: Any, with replacement: Any?) -> Any {
        guard let step = path.first else { return replacement ?? NSNull() }
        let rest = Array(path.dropFirst())
        switch step {
        case .key(let key):
            var object = value as? [String: Any] ?? [:]
            if rest.isEmpty && replacement == nil { object[key] = nil } else {
                object[key] = replacing(rest, in: object[key] ?? NSNull(), with: replacement)
            }
            return object
        case .index(let index):
            var array = value as? [Any] ?? []
            guard index < array.count else { return array }
            if rest.isEmpty && replacement == nil { array.remove(at: index) } else {
                array[index] = replacing(rest, in: array[index], with: replacement)
            }
            return array
        }
    }
}
