import Foundation
import LambdaPlatform
import XCTest

/// Signature Version 4 against AWS's own published examples, and against botocore (the signer AWS's Python
/// SDK and moto use) for the Lambda-shaped requests the function sends.
final class SigV4Tests: XCTestCase {
    let example = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

    /// AWS's documented example: IAM ListUsers, GET with a query, on 2015-08-30 12:36:00 UTC.
    func testAWSDocumentedIAMListUsersExample() {
        let request = AWSRequest(method: "GET", path: "/", query: [("Action", "ListUsers"), ("Version", "2010-05-08")],
                                 headers: ["Host": "iam.amazonaws.com",
                                           "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                                           "X-Amz-Date": "20150830T123600Z"])
        let signer = SigV4(credentials: example, region: "us-east-1", service: "iam")
        let (canonical, signed) = SigV4.canonicalRequest(request, doubleEncodePath: true)
        XCTAssertEqual(canonical, """
            GET
            /
            Action=ListUsers&Version=2010-05-08
            content-type:application/x-www-form-urlencoded; charset=utf-8
            host:iam.amazonaws.com
            x-amz-date:20150830T123600Z

            content-type;host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        XCTAssertEqual(signed, "content-type;host;x-amz-date")
        XCTAssertEqual(signer.authorization(request, amzDate: "20150830T123600Z"),
                       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                       + "SignedHeaders=content-type;host;x-amz-date, "
                       + "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
    }

    /// AWS's test suite "post-x-www-form-urlencoded": the body's hash takes part in the signature.
    func testPostWithBodyFromAWSTestSuite() {
        var request = AWSRequest(method: "POST", path: "/",
                                 headers: ["Host": "example.amazonaws.com",
                                           "Content-Type": "application/x-www-form-urlencoded"],
                                 body: Array("Param1=value1".utf8))
        let signer = SigV4(credentials: example, region: "us-east-1", service: "service")
        signer.sign(&request, at: 1_440_938_160)   // 2015-08-30T12:36:00Z
        XCTAssertEqual(request.headers["X-Amz-Date"], "20150830T123600Z")
        XCTAssertEqual(request.headers["Authorization"],
                       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                       + "SignedHeaders=content-type;host;x-amz-date, "
                       + "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
        // The same request with another body signs differently: the body is really covered.
        var tampered = request
        tampered.body = Array("Param1=value2".utf8)
        XCTAssertNotEqual(signer.authorization(tampered, amzDate: "20150830T123600Z"), request.headers["Authorization"])
    }

    /// AWS's test suite "post-vanilla-query-nonunreserved": reserved characters in query names and values.
    func testQueryWithReservedCharactersFromAWSTestSuite() {
        let request = AWSRequest(method: "POST", path: "/", query: [("@#$%^", ""), ("+", "/,?><`\";:\\|][{}")],
                                 headers: ["Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z"])
        let signer = SigV4(credentials: example, region: "us-east-1", service: "service")
        XCTAssertTrue(signer.authorization(request, amzDate: "20150830T123600Z")
            .hasSuffix("Signature=66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e"))
    }

    func testARNInPathIsEncodedOnceOnTheWireAndTwiceWhenSigned() {
        let request = AWSRequest(method: "POST", path: "/2017-03-31/tags/arn:aws:lambda:us-east-1:123456789012:function:f",
                                 headers: ["Host": "lambda.us-east-1.amazonaws.com", "X-Amz-Date": "20240102T030405Z"])
        XCTAssertEqual(request.wirePath, "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af")
        let (canonical, _) = SigV4.canonicalRequest(request, doubleEncodePath: true)
        XCTAssertEqual(canonical.split(separator: "\n")[1],
                       "/2017-03-31/tags/arn%253Aaws%253Alambda%253Aus-east-1%253A123456789012%253Afunction%253Af")
    }

    func testSessionTokenIsSentAndSigned() {
        var request = AWSRequest(method: "GET", path: "/2015-03-31/functions/f", headers: ["Host": "h"])
        let signer = SigV4(credentials: AWSCredentials(accessKeyID: "ASIAX", secretAccessKey: "s", sessionToken: "tok/en+"),
                           region: "eu-west-1", service: "lambda")
        signer.sign(&request, at: 0)
        XCTAssertEqual(request.headers["X-Amz-Security-Token"], "tok/en+")
        XCTAssertTrue(request.headers["Authorization"]!.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"))
        XCTAssertTrue(request.headers["Authorization"]!.contains("Credential=ASIAX/19700101/eu-west-1/lambda/aws4_request"))
    }

    /// Lambda-shaped requests (JSON body, ARN path, query, session token) signed here and by botocore agree.
    func testAgreesWithBotocore() throws {
        let cases: [AWSRequest] = [
            AWSRequest(method: "PUT", path: "/2015-03-31/functions/my-fn/aliases/Service",
                       headers: ["Host": "127.0.0.1:5000", "Content-Type": "application/json", "X-Amz-Date": "20240102T030405Z"],
                       body: Array(#"{"FunctionVersion":"2","RoutingConfig":{"AdditionalVersionWeights":{"3":0.1}}}"#.utf8)),
            AWSRequest(method: "POST", path: "/2017-03-31/tags/arn:aws:lambda:us-east-1:123456789012:function:my-fn",
                       headers: ["Host": "lambda.us-east-1.amazonaws.com", "Content-Type": "application/json",
                                 "X-Amz-Date": "20240102T030405Z", "X-Amz-Security-Token": "session token"],
                       body: Array(#"{"Tags":{"gantry:version":"7"}}"#.utf8)),
            AWSRequest(method: "GET", path: "/2015-03-31/functions/my-fn/versions",
                       query: [("MaxItems", "50"), ("Marker", "a b/c=")],
                       headers: ["Host": "lambda.us-east-1.amazonaws.com", "X-Amz-Date": "20240102T030405Z"]),
        ]
        let credentials = AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "secret/with+chars")
        let signer = SigV4(credentials: credentials, region: "us-east-1", service: "lambda")
        let theirs = try botocoreSignatures(cases, credentials: credentials)
        XCTAssertEqual(theirs.count, cases.count)
        for (request, signature) in zip(cases, theirs) {
            let ours = signer.authorization(request, amzDate: "20240102T030405Z")
            XCTAssertTrue(ours.hasSuffix("Signature=" + signature), "\(request.method) \(request.path): \(ours) vs \(signature)")
        }
    }

    /// botocore's SigV4Auth (installed with moto) on the same requests, as moto verifies one: the timestamp from
    /// X-Amz-Date, every sent header signed. One signature per line.
    private func botocoreSignatures(_ requests: [AWSRequest], credentials: AWSCredentials) throws -> [String] {
        let script = """
            import sys, json
            from botocore.auth import SigV4Auth
            from botocore.awsrequest import AWSRequest
            from botocore.credentials import Credentials
            for spec in json.load(sys.stdin):
                url = "http://" + spec["headers"]["Host"] + spec["path"] + ("?" + spec["query"] if spec["query"] else "")
                req = AWSRequest(method=spec["method"], url=url, data=spec["body"].encode(), headers=spec["headers"])
                req.context["timestamp"] = spec["headers"]["X-Amz-Date"]
                auth = SigV4Auth(Credentials(spec["key"], spec["secret"], spec["headers"].get("X-Amz-Security-Token")),
                                 "lambda", "us-east-1")
                print(auth.signature(auth.string_to_sign(req, auth.canonical_request(req)), req))
            """
        let specs: [[String: Any]] = requests.map { r in
            ["method": r.method, "path": r.wirePath, "query": r.wireQuery, "headers": r.headers,
             "body": String(decoding: r.body, as: UTF8.self), "key": credentials.accessKeyID, "secret": credentials.secretAccessKey]
        }
        let input = String(decoding: try JSONSerialization.data(withJSONObject: specs), as: UTF8.self)
        return try python(script, stdin: input).split(separator: "\n").map(String.init)
    }
}
