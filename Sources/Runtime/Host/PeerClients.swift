public import NIOPosix
public import RPCCore
import RPCHTTP2
public import RuntimeConfig
import RuntimeObservability
import RuntimeSecurity
import Synchronization

/// Clients for the other services, one per peer, made on first use from the `*_ADDR` keys.
///
/// Every outbound call carries the caller's identity (a service token for the tenant being
/// served), the trace context and client metrics. A peer that is not configured fails only
/// the calls that need it, with UNAVAILABLE naming its key.
public final class PeerClients: Sendable {
    private let addresses: [PeerService: [String]]
    private let interceptors: [any ClientInterceptor]
    private let transports = Mutex<[PeerService: HTTP2ClientTransport]>([:])
    /// The process's event loops, which the connections to peers share with its server.
    private let eventLoops: MultiThreadedEventLoopGroup?

    /// Clients for the peers at `addresses`, each call through `interceptors`, on `eventLoops`
    /// (nil: a group of the transport's own).
    public init(
        addresses: [PeerService: [String]], interceptors: [any ClientInterceptor],
        eventLoops: MultiThreadedEventLoopGroup? = nil
    ) {
        self.addresses = addresses
        self.interceptors = interceptors
        self.eventLoops = eventLoops
    }

    /// The client for `peer`; UNAVAILABLE when its address key is unset or unusable.
    public func client(for peer: PeerService) throws(RPCError) -> RPCClient {
        guard let list = addresses[peer], !list.isEmpty else {
            throw RPCError(code: .unavailable, message: "\(peer.environmentKey) is not set: no address for \(peer)")
        }
        let targets = list.compactMap { Target($0) }
        guard targets.count == list.count else {
            throw RPCError(code: .unavailable, message: "\(peer.environmentKey) has an address that is not host:port")
        }
        let transport = transports.withLock { transports in
            if let existing = transports[peer] { return existing }
            let made = HTTP2ClientTransport(targets: targets, eventLoopGroup: eventLoops)
            transports[peer] = made
            return made
        }
        return RPCClient(transport: transport, interceptors: interceptors)
    }

    /// Closes every connection to peers.
    public func close() async {
        let all = transports.withLock { transports in
            defer { transports.removeAll() }
            return Array(transports.values)
        }
        for transport in all { await transport.close() }
    }
}
