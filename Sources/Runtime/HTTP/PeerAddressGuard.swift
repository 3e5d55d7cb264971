import NIOCore

/// Checks each new connection's peer address, after AsyncHTTPClient connects and before it sends
/// a request: a non-public peer is refused even if the host's name resolved to a public address
/// when the URL was checked (DNS rebinding).
enum PeerAddressGuard {
    /// The connection reached an address tenants may not reach.
    struct Refused: Error {
        var address: IPAddress
    }

    /// The connection initializer: succeeds for a public peer, otherwise fails and closes it.
    @Sendable static func check(_ channel: any Channel) -> EventLoopFuture<Void> {
        let address = channel.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
        if let address, address.classification.isPubliclyRoutable {
            return channel.eventLoop.makeSucceededVoidFuture()
        }
        // Close after AsyncHTTPClient has recorded the failure: it does not close a connection
        // whose initializer failed, and must not see the close before it sees the failure.
        channel.eventLoop.execute { channel.close(promise: nil) }
        return channel.eventLoop.makeFailedFuture(Refused(address: address ?? IPAddress(0, 0, 0, 0)))
    }
}
