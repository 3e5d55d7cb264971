import Dispatch
import Foundation
import InteropTesting
import NIOCore
import NIOEmbedded
import RPCCore
import RPCHTTP2
import StandardServices

/// Raw bytes into a gRPC server connection, on NIO's testing channel (no socket): nghttp2, the
/// connection handler, the streams and the interop test service with health and reflection.
///
/// The harness sends the client preface and an empty SETTINGS frame, then the input. NIO's
/// thread-safe testing channel is used, not `EmbeddedChannel`: handlers run as tasks that may
/// resume on other threads (the interop service sleeps between streamed responses).
final class HTTP2Target: Sendable {
    static let shared = HTTP2Target()

    private let loop = NIOAsyncTestingEventLoop()
    private let services: [any RegistrableService] = StandardServices.adding(to: [TestServiceImplementation()]).services
    /// With `AGENTPLANE_FUZZ_VERBOSE` set, each input prints how much the server wrote.
    private let verbose = getenv("AGENTPLANE_FUZZ_VERBOSE") != nil
    /// "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" and SETTINGS with no parameters.
    private static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0]

    func run(_ bytes: UnsafeRawBufferPointer) {
        let input = Self.preface + [UInt8](bytes)
        let done = DispatchSemaphore(value: 0)
        Task {
            await self.exchange(input)
            done.signal()
        }
        done.wait()
    }

    private func exchange(_ input: [UInt8]) async {
        let handler = GRPCServer.makeDetachedConnectionHandler(
            services: services, configuration: ServerConfiguration(maximumReceiveMessageSize: 64 * 1024))
        let channel = await NIOAsyncTestingChannel(handler: handler, loop: loop)
        do {
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 50051)).get()
            try await channel.writeInbound(ByteBuffer(bytes: input))
        } catch {
            // The handler closed the connection: a protocol error is a fine answer.
        }
        // Let the handlers run, then pass every deadline and keepalive.
        for _ in 0..<8 {
            await loop.run()
            await Task.yield()
        }
        await loop.advanceTime(by: .hours(25))
        await loop.run()
        var written = 0
        while let buffer = try? await channel.readOutbound(as: ByteBuffer.self) { written += buffer.readableBytes }
        if verbose { print("http2: \(input.count) bytes in, \(written) bytes out") }
        _ = try? await channel.finish(acceptAlreadyClosed: true)
        await loop.run()
    }
}
