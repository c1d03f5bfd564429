import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Puts the connection's peer address on each request as a header, for the login limits: the router's context
/// does not carry the channel. Whatever a client sent under that name is dropped first, so it cannot pose as
/// another address.
final class ClientAddressTag: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    static let field = HTTPField.Name("Gantry-Client-Address")!

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        head.headerFields[Self.field] = context.channel.remoteAddress?.ipAddress
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}

extension Request {
    /// The peer address `ClientAddressTag` set; one shared name when there is none (a request made in-process).
    var clientAddress: String { headers[ClientAddressTag.field] ?? "unknown" }
}
