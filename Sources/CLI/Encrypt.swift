import ArgumentParser
import Foundation
import GantryAPI
import SecretEncryption

/// `gantry encrypt`: seals a secret read on stdin for a server's key pair, for `spec.encryption.encryptedSecrets`.
/// The public key comes from the server's API, or from a file, so sealing needs no access to the private key.
struct Encrypt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Seal a secret read from stdin for the server's key pair (for spec.encryption.encryptedSecrets).")
    @OptionGroup var server: ServerOptions
    @Option(help: "A PEM public key file instead of asking the server.") var publicKey: String?
    @Flag(help: "Keep a trailing newline of the input (it is dropped by default, as `echo` adds one).")
    var keepNewline = false

    func run() async throws {
        let pem: String
        if let publicKey {
            guard let text = try? String(contentsOfFile: publicKey, encoding: .utf8) else {
                throw ValidationError("cannot read \(publicKey)")
            }
            pem = text
        } else {
            pem = try await APIClient(options: server).get("/api/v1/encryption/public-key", as: PublicKeyView.self).publicKey
        }
        var input = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        if !keepNewline, input.last == UInt8(ascii: "\n") { input.removeLast() }
        guard !input.isEmpty else { throw ValidationError("no secret on stdin (echo -n 'secret' | gantry encrypt)") }
        print(try SealedSecret.seal(input, for: try SecretKey.publicKey(pem: pem)))
    }
}
