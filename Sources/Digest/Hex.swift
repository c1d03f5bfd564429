extension Digest {
    /// Lower-case hex, the form hosts put in their signature headers and the store keeps digests in.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Decodes hex text (either case) into bytes; nil for odd length or any non-hex character.
    public static func bytes(fromHex text: some StringProtocol) -> [UInt8]? { bytes(fromHexDigits: Array(text.utf8)) }

    /// The same over the text's UTF-8 bytes (e.g. the two digits of a `%XX` escape).
    public static func bytes(fromHexDigits digits: [UInt8]) -> [UInt8]? {
        guard digits.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var result = [UInt8]()
        result.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            result.append(high << 4 | low)
            index += 2
        }
        return result
    }
}
