/// Why the outbound policy refused a URL. Messages name the host only — never the path or query,
/// which often carry a webhook's secret token.
public struct OutboundURLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong with the URL.
    public enum Reason: Sendable, Hashable {
        /// The scheme is neither http nor https.
        case unsupportedScheme(String)
        /// Plain http to a host that is not on the allow-list.
        case insecureScheme
        /// The URL carries `user:password@`, which would leak credentials into logs and redirects.
        case userInfo
        /// The URL has no host.
        case missingHost
        /// The host did not resolve.
        case unresolvable(String)
        /// The host is, or resolves to, an address of a kind tenants may not reach.
        case forbiddenAddress(IPAddress, IPAddressClassification)
    }

    /// What is wrong.
    public var reason: Reason
    /// The URL's host, lowercased, or "" when it has none.
    public var host: String

    /// A refusal for a host.
    public init(reason: Reason, host: String) {
        self.reason = reason
        self.host = host
    }

    /// `outbound URL to "host" refused: why`.
    public var description: String {
        let why =
            switch reason {
            case .unsupportedScheme(let scheme): "scheme \"\(scheme)\" is not http or https"
            case .insecureScheme: "plain http is allowed only to allow-listed hosts (use https)"
            case .userInfo: "the URL contains user credentials"
            case .missingHost: "the URL has no host"
            case .unresolvable(let detail): "the host does not resolve (\(detail))"
            case .forbiddenAddress(let address, let kind):
                "\(address) is a \(kind) address, reachable only for allow-listed hosts"
            }
        return "outbound URL to \"\(host)\" refused: \(why)"
    }
}
