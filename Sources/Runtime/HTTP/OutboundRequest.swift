public import Foundation

/// One outbound HTTP call to a URL a tenant supplied.
public struct OutboundRequest: Sendable {
    /// An HTTP method.
    public struct Method: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The method's name, e.g. `GET`.
        public var rawValue: String

        /// A method by name.
        public init(rawValue: String) {
            self.rawValue = rawValue.uppercased()
        }

        /// GET.
        public static let get = Method(rawValue: "GET")
        /// HEAD.
        public static let head = Method(rawValue: "HEAD")
        /// POST.
        public static let post = Method(rawValue: "POST")
        /// PUT.
        public static let put = Method(rawValue: "PUT")
        /// PATCH.
        public static let patch = Method(rawValue: "PATCH")
        /// DELETE.
        public static let delete = Method(rawValue: "DELETE")

        /// The method's name.
        public var description: String { rawValue }
    }

    /// The method.
    public var method: Method
    /// Where to send it; checked by the policy, as is every redirect's target.
    public var url: URL
    /// The request's headers.
    public var headers: OutboundHeaders
    /// The request body; empty for none.
    public var body: [UInt8]
    /// This call's time limit, instead of the policy's.
    public var timeout: Duration?
    /// This call's response size limit, instead of the policy's.
    public var maximumResponseBytes: Int?
    /// Whether to follow redirects (checking each target); when false a 3xx is returned as is.
    public var followsRedirects: Bool

    /// A request.
    public init(
        method: Method = .get, url: URL, headers: OutboundHeaders = [:], body: [UInt8] = [],
        timeout: Duration? = nil, maximumResponseBytes: Int? = nil, followsRedirects: Bool = true
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.maximumResponseBytes = maximumResponseBytes
        self.followsRedirects = followsRedirects
    }
}
