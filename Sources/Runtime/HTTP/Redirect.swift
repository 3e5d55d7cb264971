import Foundation

/// How a request changes when it follows a redirect, as browsers and curl do it.
enum Redirect {
    /// The statuses that redirect (with a Location).
    static let statuses: Set<Int> = [301, 302, 303, 307, 308]

    /// Headers that carry credentials for one origin and must not travel to another.
    static let credentialHeaders = ["authorization", "proxy-authorization", "cookie"]

    /// The request to send next: to `location` resolved against the current URL; 303 (and 301/302
    /// after a POST) becomes a GET without a body; credentials are dropped when the origin
    /// changes. Nil when the Location is not a URL.
    static func follow(_ request: OutboundRequest, status: Int, location: String) -> OutboundRequest? {
        guard let target = URL(string: location, relativeTo: request.url)?.absoluteURL, target.host != nil else {
            return nil
        }
        var next = request
        next.url = target
        let becomesGet =
            (status == 303 && request.method != .head) || ((status == 301 || status == 302) && request.method == .post)
        if becomesGet {
            next.method = .get
            next.body = []
            for name in ["content-length", "content-type", "transfer-encoding"] { next.headers.remove(name: name) }
        }
        if origin(of: target) != origin(of: request.url) {
            for name in credentialHeaders { next.headers.remove(name: name) }
        }
        return next
    }

    /// Scheme, host and effective port.
    private static func origin(of url: URL) -> String {
        let scheme = (url.scheme ?? "").lowercased()
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\((url.host ?? "").lowercased()):\(port)"
    }
}
