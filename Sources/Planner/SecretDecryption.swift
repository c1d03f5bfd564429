import Foundation
import RepositoryYAML
import SecretEncryption

/// `spec.encryption`, piped's key-pair model: secrets sealed with the server's public key (`gantry encrypt`) live in
/// the app's config as `encryptedSecrets`, and `{{ .encryptedSecrets.NAME }}` in each of `decryptionTargets` is
/// replaced by the opened value. Only in a deployment's own copy of the sources, never in Git or the mirror, and only
/// in the files listed. An app that uses it on a server without the private key is not deployed: its placeholders
/// would reach the platform as they are.
struct SecretDecryption: Sendable {
    let key: SecretKey?

    struct Failed: Error, CustomStringConvertible { let description: String }

    /// The largest decryption target read: manifests, not data.
    static let maxTargetBytes = 4 << 20

    /// Opens the secrets of `application`'s config in `directory` and writes them into its decryption targets there.
    /// Nothing happens when the config has no `spec.encryption`.
    func apply(directory: String, application: String) throws {
        guard let config = try Self.config(in: directory, application: application) else { return }
        let encryption = try config.field("spec").field("encryption")
        guard !encryption.isMissing else { return }
        let sealed = try encryption.field("encryptedSecrets").stringMap()
        let targets = try encryption.field("decryptionTargets").stringList()
        guard let key else {
            throw Failed(description: "spec.encryption: this server has no secretManagement key pair, so its encrypted "
                         + "secrets cannot be opened; refusing to deploy the placeholders")
        }
        var opened: [String: String] = [:]
        for (name, text) in sealed {
            do { opened[name] = String(decoding: try SealedSecret.open(text, with: key), as: UTF8.self) } catch {
                throw Failed(description: "spec.encryption.encryptedSecrets.\(name) cannot be opened: \(error)")
            }
        }
        for target in targets { try render(target, in: directory, secrets: opened) }
    }

    private func render(_ target: String, in directory: String, secrets: [String: String]) throws {
        let parts = target.split(separator: "/", omittingEmptySubsequences: true)
        guard !target.hasPrefix("/"), !parts.isEmpty, !parts.contains("..") else {
            throw Failed(description: "spec.encryption.decryptionTargets: \(target) is not a path inside the app's directory")
        }
        let path = directory + "/" + parts.joined(separator: "/")
        // A symbolic link pushed in the commit could point anywhere: only a regular file of the sources is written.
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw Failed(description: "spec.encryption.decryptionTargets: \(target) is not a regular file in the app's directory")
        }
        guard Int(info.st_size) <= Self.maxTargetBytes,
              let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Failed(description: "spec.encryption.decryptionTargets: \(target) is not a UTF-8 file of at most 4 MiB")
        }
        var unknown: [String] = []
        let rendered = Self.placeholders(in: text) { name in
            if let value = secrets[name] { return value }
            unknown.append(name)
            return nil
        }
        guard unknown.isEmpty else {
            throw Failed(description: "\(target) uses {{ .encryptedSecrets.\(unknown[0]) }}, which spec.encryption.encryptedSecrets does not have")
        }
        try rendered.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// `{{ .encryptedSecrets.NAME }}` (spaces optional) replaced by `value(NAME)`; left as written where it is nil.
    static func placeholders(in text: String, value: (String) -> String?) -> String {
        let pattern = #"\{\{\s*\.encryptedSecrets\.([A-Za-z0-9_.-]+)\s*\}\}"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return text }
        var out = "", last = text.startIndex
        for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let whole = Range(match.range, in: text), let name = Range(match.range(at: 1), in: text) else { continue }
            out += text[last..<whole.lowerBound]
            out += value(String(text[name])) ?? String(text[whole])
            last = whole.upperBound
        }
        return out + text[last...]
    }

    /// The app's config among the config files of `directory`: the only one, or the one whose spec.name is
    /// `application`.
    static func config(in directory: String, application: String) throws -> YAMLField? {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
            .filter { AppDiscovery.configFileKind($0) != nil }
        var documents: [YAMLField] = []
        for name in names {
            guard let text = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8),
                  let document = try? YAMLField.document(text, file: name), document.node?.mapping != nil else { continue }
            documents.append(document)
        }
        if documents.count <= 1 { return documents.first }
        return documents.first { (try? $0.field("spec").field("name").string()) == application } ?? documents.first
    }
}
