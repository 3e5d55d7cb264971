import NIOCore
import NIOPosix
import Synchronization

/// A plain TCP connection to a test server: writes any bytes, collects what comes back, and
/// knows when the server closed it. For what a well-behaved HTTP client would never send.
final class RawConnection: Sendable {
    private let channel: any Channel
    private let received: Collector

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let state = Mutex<(bytes: [UInt8], closed: Bool)>(([], false))

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            state.withLock { $0.bytes += buffer.readableBytesView }
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLock { $0.closed = true }
        }
    }

    private init(channel: any Channel, received: Collector) {
        self.channel = channel
        self.received = received
    }

    /// Connects to 127.0.0.1:`port`.
    static func connect(port: Int) async throws -> RawConnection {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, received: collector)
    }

    /// Sends bytes (a write to a closed connection is ignored: the server may have cut it off).
    func send(_ text: String) async { await send(Array(text.utf8)) }

    /// Sends bytes.
    func send(_ bytes: [UInt8]) async {
        try? await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// Everything received so far, as text.
    var text: String { String(decoding: received.state.withLock { $0.bytes }, as: UTF8.self) }

    /// Whether the server closed the connection.
    var isClosed: Bool { received.state.withLock { $0.closed } }

    /// Waits (bounded) until `condition` holds; false when `within` passed first.
    func wait(within: Duration = .seconds(10), until condition: (RawConnection) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + within
        while !condition(self) {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// The status code of the first response received, if one has.
    var firstStatus: Int? {
        let text = self.text
        guard text.hasPrefix("HTTP/1.1 "), text.count >= 12 else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }

    /// Closes the connection.
    func close() async { try? await channel.close() }
}
