import Foundation

/// Who a request really comes from behind proxies: the `X-Forwarded-For` chain read from the
/// right, believed only as far as the hops are trusted proxies.
public enum ForwardedFor {
    /// The client's address: `direct` (the peer) unless it is one of `trustedProxies`; then the
    /// rightmost address in `headerValues` (the X-Forwarded-For values, in order) that is not a
    /// trusted proxy. Entries further left are the client's own claims and never believed.
    public static func clientAddress(direct: String, headerValues: [String], trustedProxies: Set<IPAddress>)
        -> String
    {
        guard !trustedProxies.isEmpty, let proxy = IPAddress(direct), trustedProxies.contains(proxy) else {
            return direct
        }
        // Each proxy appends the address it received the call from.
        let hops = headerValues.joined(separator: ",").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var client = direct
        for hop in hops.reversed() {
            guard let address = IPAddress(hop) else { return String(hop.prefix(64)) }
            client = address.description
            if !trustedProxies.contains(address) { break }
        }
        return client
    }
}
