import RPCCore
import RuntimeHTTP
import RuntimeSecurity

/// Where a call comes from, for the limits counted per client address (failed logins, failed
/// credential lookups): the peer's IP address — or, when the peer is one of the trusted proxies
/// (`TRUSTED_PROXIES`, default none), the client address that proxy forwarded in
/// `x-forwarded-for`. A forwarded value from any other peer is ignored: a client could write
/// anything there. Behind the edge, the address it forwards in `x-agentplane-client-address` is
/// believed when the call also carries the edge's own service token (`x-agentplane-edge-token`,
/// minted with JWT_SECRET for the service `edge`), and from no one else.
struct ClientAddressResolver: Sendable {
    /// The proxies whose `x-forwarded-for` is believed.
    let trustedProxies: Set<IPAddress>
    /// Verifies the edge's token; nil: the edge's forwarded address is never believed.
    var verifier: TokenVerifier? = nil

    /// The caller's address, as text: an IP address in canonical form when one can be read.
    func address(peer: String, metadata: Metadata) async -> String {
        if let verifier, let forwarded = metadata.firstString(forKey: "x-agentplane-client-address"),
            let token = metadata.firstString(forKey: "x-agentplane-edge-token"),
            let edge = try? await verifier.verify(token), edge.kind == .service, edge.serviceName == "edge"
        {
            return IPAddress(forwarded)?.description ?? String(forwarded.prefix(64))
        }
        return forwardedOrDirect(peer: peer, metadata: metadata)
    }

    private func forwardedOrDirect(peer: String, metadata: Metadata) -> String {
        ForwardedFor.clientAddress(
            direct: Self.peerAddress(peer), headerValues: metadata[stringValues: "x-forwarded-for"],
            trustedProxies: trustedProxies)
    }

    /// `ipv4:127.0.0.1:5000` → `127.0.0.1`, `ipv6:[::1]:5000` → `::1`: the address without its
    /// port, canonical when it parses; the text as given otherwise.
    static func peerAddress(_ peer: String) -> String {
        var text = Substring(peer)
        for prefix in ["ipv4:", "ipv6:"] where text.hasPrefix(prefix) { text = text.dropFirst(prefix.count) }
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            text = text[text.index(after: text.startIndex)..<close]
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.lastIndex(of: ":") {
            text = text[..<colon]
        }
        return IPAddress(String(text))?.description ?? String(text)
    }
}
