import Foundation

/// How a request changes when it follows a redirect, as browsers and curl do it.
enum Redirect {
    /// The statuses that redirect (with a Location).
    static let statuses: Set<Int> = [301, 302, 303, 307, 308]

    /// Headers that carry credentials for one origin and must not travel to another.
    static let credentialHeaders = ["authorization", "proxy-authorization", "cookie"]

    /// The request to send next: to `location` resolved against the current URL; 303 (and 301/302
    /// after a POST) becomes a GET without a body. When the origin changes, every header that
    /// may carry a credential is dropped: the standard ones (`credentialHeaders`), every field
    /// the caller marked secret (`OutboundHeaders.Field.isSecret`, e.g. a tool's `X-Api-Key`),
    /// and every field whose name says it holds one (`OutboundHeaders.isSensitive`: key, token,
    /// secret, signature, password). Nil when the Location is not a URL.
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
        if OutboundOrigin(target) != OutboundOrigin(request.url) {
            next.headers.removeAll { field in
                field.isSecret || credentialHeaders.contains(field.name.lowercased())
                    || OutboundHeaders.isSensitive(field.name)
            }
        }
        return next
    }
}
