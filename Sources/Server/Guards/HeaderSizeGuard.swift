import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request whose head exceeds the decoder's size limits with 431 (Hummingbird would say 400), so a
/// client learns that its headers, not its request, were the problem. The limit itself is NIO's decoder's.
final class HeaderSizeGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let parserError = error as? HTTPParserError, parserError == .headerOverflow {
            context.writeFinalResponse(.requestHeaderFieldsTooLarge)
            return
        }
        context.fireErrorCaught(error)
    }
}
