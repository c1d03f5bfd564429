import Foundation

/// A deployment package: the files of a folder in a zip archive, stored without compression.
///
/// The archive is deterministic (sorted names, a fixed 1980-01-01 timestamp, modes reduced to 0644/0755), so
/// the same folder always gives the same bytes and the same CodeSha256: an unchanged function is not updated,
/// and AWS does not publish a new version for it. Executable bits and symbolic links are kept (Unix
/// attributes), which a custom runtime's `bootstrap` needs.
public enum ZipArchive {
    /// Lambda's limit for a package uploaded in the request.
    public static let directUploadLimit = 50 * 1024 * 1024

    public struct Problem: Error, CustomStringConvertible, Sendable { public let description: String }

    struct Entry { var name: String; var data: [UInt8]; var mode: UInt32 }

    /// Zips every file under `folder` (names relative to it).
    public static func zip(folder: String) throws -> [UInt8] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw Problem(description: "code folder \(folder) does not exist")
        }
        var entries: [Entry] = []
        try collect(folder, prefix: "", into: &entries)
        guard !entries.isEmpty else { throw Problem(description: "code folder \(folder) has no files") }
        // Checked before building: a stored archive is a little larger than its files, and 32-bit offsets suffice.
        let size = entries.reduce(0) { $0 + $1.data.count + $1.name.utf8.count * 2 + 76 } + 22
        guard size <= directUploadLimit, entries.count < 65535 else {
            throw Problem(description: "the code is \(size / 1_048_576) MiB in \(entries.count) files; Lambda takes at most "
                          + "50 MiB in a request: upload a package to S3 and set s3Bucket and s3Key")
        }
        return build(entries.sorted { $0.name < $1.name })
    }

    private static func collect(_ dir: String, prefix: String, into entries: inout [Entry]) throws {
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: dir) {
            if prefix.isEmpty && name == ".git" { continue }
            let path = dir + "/" + name
            let attributes = try fm.attributesOfItem(atPath: path)
            let type = attributes[.type] as? FileAttributeType
            let permissions = (attributes[.posixPermissions] as? NSNumber)?.uint32Value ?? 0o644
            let mode: UInt32 = permissions & 0o111 != 0 ? 0o755 : 0o644
            if type == .typeDirectory {
                try collect(path, prefix: prefix + name + "/", into: &entries)
            } else if type == .typeSymbolicLink {
                let target = try fm.destinationOfSymbolicLink(atPath: path)
                entries.append(Entry(name: prefix + name, data: Array(target.utf8), mode: 0o120777))
            } else if type == .typeRegular {
                guard let data = fm.contents(atPath: path) else { throw Problem(description: "cannot read \(path)") }
                entries.append(Entry(name: prefix + name, data: Array(data), mode: 0o100000 | mode))
            }
        }
    }

    static func build(_ entries: [Entry]) -> [UInt8] {
        var out: [UInt8] = [], central: [UInt8] = []
        let dosTime: UInt16 = 0, dosDate: UInt16 = (0 << 9) | (1 << 5) | 1     // 1980-01-01 00:00
        for entry in entries {
            let name = Array(entry.name.utf8)
            let crc = CRC32.checksum(entry.data)
            let offset = UInt32(out.count)
            // Local file header.
            out.le32(0x0403_4b50); out.le16(10); out.le16(0x0800); out.le16(0)   // version, UTF-8 names, stored
            out.le16(dosTime); out.le16(dosDate); out.le32(crc)
            out.le32(UInt32(entry.data.count)); out.le32(UInt32(entry.data.count))
            out.le16(UInt16(name.count)); out.le16(0)
            out += name; out += entry.data
            // Central directory record: "made by" Unix (3) so the external attributes carry the mode.
            central.le32(0x0201_4b50); central.le16(0x0314); central.le16(10); central.le16(0x0800); central.le16(0)
            central.le16(dosTime); central.le16(dosDate); central.le32(crc)
            central.le32(UInt32(entry.data.count)); central.le32(UInt32(entry.data.count))
            central.le16(UInt16(name.count)); central.le16(0); central.le16(0); central.le16(0); central.le16(0)
            central.le32(entry.mode << 16); central.le32(offset)
            central += name
        }
        let centralOffset = UInt32(out.count)
        out += central
        // End of central directory.
        out.le32(0x0605_4b50); out.le16(0); out.le16(0)
        out.le16(UInt16(entries.count)); out.le16(UInt16(entries.count))
        out.le32(UInt32(central.count)); out.le32(centralOffset); out.le16(0)
        return out
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum zip stores per file.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

private extension Array where Element == UInt8 {
    mutating func le16(_ v: UInt16) { append(UInt8(v & 0xFF)); append(UInt8(v >> 8)) }
    mutating func le32(_ v: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { append(UInt8((v >> UInt32(shift)) & 0xFF)) } }
}
