#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The secrets delivered to this invocation (docs/function-protocol.md, "Secrets"): files under `$GANTRY_SECRETS`,
/// one per name. A value read here is never to be logged; the host masks the configured values in the stage log
/// anyway.
public enum FunctionSecrets {
    /// The value of the delivered secret `name`, without one trailing newline.
    public static func value(_ name: String, environment: [String: String]) throws -> String {
        guard let folder = environment["GANTRY_SECRETS"], !folder.isEmpty else {
            throw FunctionFailure("secret \(name) was not delivered ($GANTRY_SECRETS is not set)")
        }
        // A name is a plain file name (the host refuses others); a slash here would reach outside the folder.
        guard !name.contains("/"), !name.hasPrefix(".") else { throw FunctionFailure("\(name) is not a secret name") }
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)) else {
            throw FunctionFailure("secret \(name) was not delivered (no file \(folder)/\(name))")
        }
        var text = String(decoding: data, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
