import Foundation
import Store

/// What a receiver has while it delivers one row: calls to the outside, and a small memory per target (the id a
/// Git host gave a comment or a deployment, for the rows that edit it later).
public struct OutboundExchange: Sendable {
    let http: OutboundHTTP
    let store: any OutboxStore
    let target: String
    public let now: Date

    /// One call whose answer must be 2xx. Anything else ends the delivery with the reason the sender records.
    @discardableResult
    func call(_ request: OutboundRequest, accepting: Set<Int> = []) async throws -> (status: Int, body: [UInt8]) {
        do {
            return try await http.call(request, accepting: accepting)
        } catch let failed as DeliveryFailure {
            guard case .refused(401, _, let call) = failed, let credential = request.credential,
                  await credential.token.refused(credential.value) else { throw failed }
            // A renewable credential revoked before its time (an app reinstalled, its key rotated): the next attempt
            // carries a fresh one.
            throw DeliveryFailure.unreachable("HTTP 401 (\(call)): the credential was refused; the next attempt asks for a new one")
        }
    }

    /// The answer's JSON, or a failure naming what was expected (a host that answers 2xx with something else).
    func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], what: String) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(body)) } catch {
            throw DeliveryFailure.unexpectedAnswer("\(what): the answer is not the JSON expected")
        }
    }

    func decode<T: Decodable>(_ type: T.Type, _ message: OutboxMessage) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(T.self, from: Data(message.payload.utf8))
    }

    /// A store that cannot answer is worth another attempt, like a host that cannot.
    func memo(_ key: String) async throws -> String? {
        do { return try await store.outboxMemo(target: target, key: key) } catch {
            throw DeliveryFailure.unreachable("the store: \(error)")
        }
    }
    func remember(_ key: String, _ value: String) async throws {
        do { try await store.setOutboxMemo(target: target, key: key, value: value, now: now) } catch {
            throw DeliveryFailure.unreachable("the store: \(error)")
        }
    }
}

/// Why a delivery did not complete; the sender decides from it whether to try again.
enum DeliveryFailure: Error, CustomStringConvertible {
    case refused(status: Int, retryAfter: String?, call: String)
    case unreachable(String)
    case unexpectedAnswer(String)

    var description: String {
        switch self {
        case .refused(let status, _, let call): return "HTTP \(status) (\(call))"
        case .unreachable(let reason): return reason
        case .unexpectedAnswer(let what): return what
        }
    }

    /// A refusal other than throttling or a timeout says the same next time.
    var isPermanent: Bool {
        guard case .refused(let status, _, _) = self else { return false }
        return (400..<500).contains(status) && ![408, 425, 429].contains(status)
    }
}
