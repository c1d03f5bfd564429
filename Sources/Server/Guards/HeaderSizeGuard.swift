import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request whose head exceeds the decoder's size limits with 431 (Hummingbird would say 400), so a
/// client learns that its headers, not its request, were the problem. The limit itself is NIO's decoder's.
/// Only the sending side is closed then: the client may still be sending the rest of its request, and closing
/// both sides over unread bytes would reset the connection before it reads the answer. The connection's
/// deadline (or the client hanging up) ends it.
final class HeaderSizeGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private var answered = false

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if answered { return }   // the decoder refuses whatever else arrives; it was answered already
        if let parserError = error as? HTTPParserError, parserError == .headerOverflow {
            answered = true
            context.writeFinalResponse(.requestHeaderFieldsTooLarge, closing: .output)
            return
        }
        context.fireErrorCaught(error)
    }
}
