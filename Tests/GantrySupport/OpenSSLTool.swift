import Foundation

/// The openssl command line, as an operator uses it: keys made and signatures checked outside Gantry's own code.
package enum OpenSSLTool {
    /// A fresh 2048-bit RSA key pair as PEM.
    package static func rsaKeyPair() throws -> (privatePEM: String, publicPEM: String) {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try sh(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", dir + "/key"])
        try sh(["openssl", "pkey", "-in", dir + "/key", "-pubout", "-out", dir + "/key.pub"])
        return (try String(contentsOfFile: dir + "/key", encoding: .utf8), try String(contentsOfFile: dir + "/key.pub", encoding: .utf8))
    }

    /// Whether a compact JWS (`header.claims.signature`) carries a valid RS256 signature by `publicPEM`'s key.
    package static func verifiesRS256(_ jws: String, publicPEM: String) -> Bool {
        let parts = jws.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let signature = base64URLDecoded(String(parts[2])), let dir = try? scratch() else { return false }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            try Data((parts[0] + "." + parts[1]).utf8).write(to: URL(fileURLWithPath: dir + "/signed"))
            try signature.write(to: URL(fileURLWithPath: dir + "/signature"))
            try publicPEM.write(toFile: dir + "/key.pub", atomically: true, encoding: .utf8)
            try sh(["openssl", "dgst", "-sha256", "-verify", dir + "/key.pub", "-signature", dir + "/signature", dir + "/signed"])
            return true
        } catch {
            return false
        }
    }

    package static func base64URLDecoded(_ text: String) -> Data? {
        var b64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        return Data(base64Encoded: b64)
    }

    private static func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("openssl-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
