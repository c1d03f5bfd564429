import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Time limits per connection that Hummingbird's idle timeout does not give (it resets on every body chunk,
/// so a client trickling one byte a second would hold a connection and a handler forever):
/// - a new connection must complete its request head within `header` (else 408 and the connection closes);
/// - once the head is in, the whole body must arrive within `request` — else 408 and the connection closes;
/// - between requests on a kept-alive connection, `idle`.
/// A response finished while its request is still being sent (413, 503: answered without reading the body)
/// ends the connection: the rest of that body is never waited for beyond the request deadline.
final class RequestDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    struct Limits: Sendable {
        var header: TimeAmount
        var request: TimeAmount
        var idle: TimeAmount
    }

    private enum Phase { case awaitingHead, readingBody, answering }

    private let limits: Limits
    private var phase = Phase.awaitingHead
    /// Requests read completely whose responses are not finished yet (more than one when pipelined).
    private var unanswered = 0
    /// A response head went out and its end has not.
    private var responseStarted = false
    private var outputClosed = false
    private var timer: Scheduled<Void>?

    init(limits: Limits) { self.limits = limits }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, limits.header) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, limits.header)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            phase = .readingBody
            arm(context, limits.request)
        case .body:
            break
        case .end:
            if outputClosed { disarm(); context.close(promise: nil) }
            unanswered += 1
            if phase == .readingBody { phase = .answering; disarm() }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.kind != .informational:
            responseStarted = true
            context.write(data, promise: promise)
        case .end:
            context.write(data, promise: promise)
            responseStarted = false
            if unanswered > 0 {
                // The answer to a request read completely (the oldest, when pipelined).
                unanswered -= 1
                if unanswered == 0, phase == .answering {
                    phase = .awaitingHead
                    arm(context, limits.idle)
                }
            } else if phase == .readingBody {
                // Answered before the body was read (413, 503): no further request on this connection. Only the
                // sending side closes: closing both while the client is still sending would reset the
                // connection, and the client might lose the answer. The request deadline still ends it.
                context.flush()
                outputClosed = true
                context.close(mode: .output, promise: nil)
            } else {
                phase = .awaitingHead
                arm(context, limits.idle)
            }
        default:
            context.write(data, promise: promise)
        }
    }

    private func arm(_ context: ChannelHandlerContext, _ delay: TimeAmount) {
        disarm()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            timer = nil
            expire(context)
        }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }

    private func expire(_ context: ChannelHandlerContext) {
        switch phase {
        case .readingBody where !responseStarted:
            // The handler is still waiting for the body: tell the client why, then cut it off.
            context.writeFinalResponse(.requestTimeout)
        case .awaitingHead where unanswered == 0 && !responseStarted:
            // No head in time (a slow client, or bytes that never make one, such as blank lines): 408, then close,
            // so a client that sent something gets an answer rather than a silent end.
            context.writeFinalResponse(.requestTimeout)
        case .awaitingHead, .readingBody:
            context.close(promise: nil)
        case .answering:
            break   // the request is in; how long answering takes is not the client's doing
        }
    }
}

extension ChannelHandlerContext {
    /// Writes a bodiless response and closes the connection (or only its sending side); for answers given
    /// below the router.
    func writeFinalResponse(_ status: HTTPResponse.Status, closing mode: CloseMode = .all) {
        let head = HTTPResponse(status: status, headerFields: [.connection: "close", .contentLength: "0"])
        write(NIOAny(HTTPResponsePart.head(head)), promise: nil)
        writeAndFlush(NIOAny(HTTPResponsePart.end(nil)), promise: nil)
        close(mode: mode, promise: nil)
    }
}
