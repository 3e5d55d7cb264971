public import Foundation

/// The origin of a URL — scheme, host and effective port — as the web defines it. Secrets are
/// bound to the origin they were saved for (a tool's, a provider's), and a redirect to another
/// origin drops them.
public struct OutboundOrigin: Sendable, Hashable, CustomStringConvertible {
    /// The scheme, lowercased.
    public let scheme: String
    /// The host, lowercased, without IPv6 brackets or a trailing dot.
    public let host: String
    /// The port, or the scheme's default (80 for http, 443 for https, 0 for others).
    public let port: Int

    /// The origin of `url`; nil when it has no scheme or host.
    public init?(_ url: URL) {
        guard let scheme = url.scheme?.lowercased(), !scheme.isEmpty else { return nil }
        let host = OutboundURLPolicy.normalizedHost(url.host ?? "")
        guard !host.isEmpty else { return nil }
        self.scheme = scheme
        self.host = host
        port = url.port ?? Self.defaultPort(scheme)
    }

    /// The origin of the URL in `text`; nil when it is not a URL with a scheme and host.
    public init?(string text: String) {
        guard let url = URL(string: text.trimmingCharacters(in: .whitespaces)) else { return nil }
        self.init(url)
    }

    /// `scheme://host:port`, brackets around an IPv6 host.
    public var description: String {
        "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    private static func defaultPort(_ scheme: String) -> Int {
        switch scheme {
        case "http": 80
        case "https": 443
        default: 0
        }
    }
}
