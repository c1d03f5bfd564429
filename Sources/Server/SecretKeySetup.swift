import Foundation
import SecretEncryption

extension GantryServer {
    /// The `secretManagement` key pair, read once at start: a file that cannot be read, or a public key that is not
    /// the private key's other half, refuses to start rather than failing the first deployment that needs it.
    static func secretKey(_ config: ServerConfig) throws -> SecretKey? {
        guard let files = config.secretManagement?.config else { return nil }
        func read(_ path: String) throws -> String {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ServerConfig.Invalid(description: "secretManagement: cannot read \(path)")
            }
            return text
        }
        let key: SecretKey
        do { key = try SecretKey.privateKey(pem: try read(files.privateKeyFile)) } catch let error as SecretKey.Unreadable {
            throw ServerConfig.Invalid(description: "secretManagement.config.privateKeyFile \(files.privateKeyFile): \(error)")
        }
        if let publicFile = files.publicKeyFile {
            let given = try? SecretKey.publicKey(pem: try read(publicFile))
            guard given?.publicPEM() == key.publicPEM() else {
                throw ServerConfig.Invalid(description: "secretManagement.config.publicKeyFile \(publicFile) is not the "
                                           + "public half of privateKeyFile")
            }
        }
        return key
    }
}
