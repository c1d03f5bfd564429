#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Digest

/// One HTTP request as Signature Version 4 sees it. `path` is the absolute path *before* URI encoding (an ARN
/// keeps its colons here); `wirePath` is how it goes on the wire.
public struct AWSRequest: Sendable, Equatable {
    public var method: String
    public var path: String
    public var query: [(name: String, value: String)]
    /// Header names as given; the signer lower-cases them. Must include `host`.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, path: String, query: [(name: String, value: String)] = [],
                headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method; self.path = path; self.query = query; self.headers = headers; self.body = body
    }

    public static func == (a: AWSRequest, b: AWSRequest) -> Bool {
        a.method == b.method && a.path == b.path && a.headers == b.headers && a.body == b.body
            && a.query.map { [$0.name, $0.value] } == b.query.map { [$0.name, $0.value] }
    }

    /// Each path segment URI-encoded once, as sent.
    public var wirePath: String { SigV4.encodePath(path) }
    /// The query string as sent (encoded, in canonical order).
    public var wireQuery: String { SigV4.canonicalQuery(query) }
}

/// AWS Signature Version 4 (header form), as AWS documents it: canonical request, string to sign, a key
/// derived per day, region and service, and the Authorization header.
public struct SigV4: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials; self.region = region; self.service = service
    }

    /// Adds `X-Amz-Date` (unless present), `X-Amz-Security-Token` (with a session token) and `Authorization`.
    /// Every header present when this is called is signed.
    public func sign(_ request: inout AWSRequest, at time: Double) {
        let stamp = SigV4.timestamp(secondsSince1970: time)
        if !request.headers.keys.contains(where: { $0.lowercased() == "x-amz-date" }) {
            request.headers["X-Amz-Date"] = stamp
        }
        if let token = credentials.sessionToken, !token.isEmpty {
            request.headers["X-Amz-Security-Token"] = token
        }
        let amzDate = request.headers.first { $0.key.lowercased() == "x-amz-date" }!.value
        request.headers["Authorization"] = authorization(request, amzDate: amzDate)
    }

    /// The Authorization header value for `request` (whose headers already hold X-Amz-Date = `amzDate`).
    public func authorization(_ request: AWSRequest, amzDate: String) -> String {
        let (canonical, signedHeaders) = SigV4.canonicalRequest(request, doubleEncodePath: service != "s3")
        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let toSign = ["AWS4-HMAC-SHA256", amzDate, scope, Digest.sha256Hex(canonical)]
            .joined(separator: "\n")
        var key = Digest.hmacSHA256(key: Array("AWS4\(credentials.secretAccessKey)".utf8), Array(day.utf8))
        for part in [region, service, "aws4_request"] { key = Digest.hmacSHA256(key: key, Array(part.utf8)) }
        let signature = Digest.hex(Digest.hmacSHA256(key: key, Array(toSign.utf8)))
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    /// The canonical request and the signed-headers list. Services other than S3 encode the path twice
    /// (the already-encoded path is encoded again), which is what makes an ARN in a path sign correctly.
    public static func canonicalRequest(_ r: AWSRequest, doubleEncodePath: Bool) -> (String, String) {
        var headers: [(String, String)] = r.headers.map { ($0.key.lowercased(), normalizeSpaces($0.value)) }
        headers.sort { $0.0 < $1.0 }
        let signed = headers.map(\.0).joined(separator: ";")
        let path = doubleEncodePath ? encodePath(encodePath(r.path)) : encodePath(r.path)
        let lines = [r.method.uppercased(), path, canonicalQuery(r.query)]
            + [headers.map { "\($0.0):\($0.1)\n" }.joined(), signed, Digest.sha256Hex(r.body)]
        return (lines.joined(separator: "\n"), signed)
    }

    /// Sorted by encoded name, then encoded value; both encoded with `uriEncode` (space is %20, never +).
    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (uriEncode($0.name), uriEncode($0.value)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Encodes every segment of an absolute path, keeping the slashes; "" becomes "/".
    static func encodePath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { uriEncode(String($0)) }
            .joined(separator: "/")
    }

    /// RFC 3986 percent-encoding: only A-Z a-z 0-9 - _ . ~ stay as they are; hex digits upper case.
    public static func uriEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF")
                out.append("%"); out.append(hex[Int(byte >> 4)]); out.append(hex[Int(byte & 15)])
            }
        }
        return out
    }

    /// Trims a header value and folds runs of spaces into one, as the canonical form wants.
    static func normalizeSpaces(_ value: String) -> String {
        var out = "", pendingSpace = false
        for ch in value {
            if ch == " " || ch == "\t" { pendingSpace = !out.isEmpty; continue }
            if pendingSpace { out.append(" "); pendingSpace = false }
            out.append(ch)
        }
        return out
    }

    /// "20150830T123600Z" in UTC.
    public static func timestamp(secondsSince1970 time: Double) -> String {
        var t = time_t(time.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }
}
