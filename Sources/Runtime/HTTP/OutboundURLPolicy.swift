public import Foundation

/// The one rule for every call to a URL a tenant supplies (webhooks, LLM provider base URLs,
/// Zammad, the http tool): https only, to public addresses only, with bounded responses — except
/// hosts on an explicit allow-list, which may use plain http and private or loopback addresses
/// (local servers in tests, an operator's own Ollama).
public struct OutboundURLPolicy: Sendable, Hashable {
    /// Hosts (names or address literals, lowercased) that may be reached over http and at
    /// private, loopback or link-local addresses; from `OUTBOUND_ALLOW_HOSTS`.
    public var allowedInsecureHosts: Set<String>
    /// The most bytes a response body may have (default 4 MiB); streaming responses share it.
    public var maximumResponseBytes: Int
    /// How long a call may take, from the request to the last byte (default 30 s). For a streamed
    /// response it bounds the wait for the head and each wait for more bytes.
    public var timeout: Duration
    /// How many redirects a call follows before failing (default 5).
    public var maximumRedirects: Int
    /// The largest chunk a streamed body yields (default 64 KiB); larger reads are split.
    public var maximumChunkBytes: Int
    /// How long a streamed response may last in total (default 10 minutes).
    public var maximumStreamDuration: Duration

    /// A policy; the defaults suit calls to providers and webhooks.
    public init(
        allowedInsecureHosts: some Sequence<String> = [String](), maximumResponseBytes: Int = 4 << 20,
        timeout: Duration = .seconds(30), maximumRedirects: Int = 5, maximumChunkBytes: Int = 64 << 10,
        maximumStreamDuration: Duration = .seconds(600)
    ) {
        self.allowedInsecureHosts = Set(allowedInsecureHosts.map(Self.normalizedHost))
        self.maximumResponseBytes = maximumResponseBytes
        self.timeout = timeout
        self.maximumRedirects = maximumRedirects
        self.maximumChunkBytes = maximumChunkBytes
        self.maximumStreamDuration = maximumStreamDuration
    }

    /// Whether a host is on the allow-list (any case, brackets and a trailing dot ignored).
    public func isAllowListed(host: String) -> Bool {
        allowedInsecureHosts.contains(Self.normalizedHost(host))
    }

    /// Checks what can be checked without DNS: the scheme, credentials and host. Returns the
    /// normalized host.
    @discardableResult
    public func checkSyntax(_ url: URL) throws(OutboundURLError) -> String {
        let host = Self.normalizedHost(url.host ?? "")
        let scheme = (url.scheme ?? "").lowercased()
        guard scheme == "https" || scheme == "http" else {
            throw OutboundURLError(reason: .unsupportedScheme(scheme), host: host)
        }
        guard !host.isEmpty else { throw OutboundURLError(reason: .missingHost, host: host) }
        guard url.user == nil, url.password == nil else { throw OutboundURLError(reason: .userInfo, host: host) }
        guard scheme == "https" || isAllowListed(host: host) else {
            throw OutboundURLError(reason: .insecureScheme, host: host)
        }
        return host
    }

    /// Checks the addresses a host resolved to: every one must be publicly routable unless the
    /// host is allow-listed (one bad address is enough to refuse, since the connection may use it).
    public func checkAddresses(_ addresses: [IPAddress], host: String) throws(OutboundURLError) {
        guard !isAllowListed(host: host) else { return }
        if let bad = addresses.first(where: { !$0.classification.isPubliclyRoutable }) {
            throw OutboundURLError(reason: .forbiddenAddress(bad, bad.classification), host: Self.normalizedHost(host))
        }
    }

    /// Checks a URL fully: its syntax, then the addresses its host resolves to (resolved off the
    /// event loop). Throws `OutboundURLError`, or `CancellationError` if the task is cancelled.
    public func check(_ url: URL) async throws {
        let host = try checkSyntax(url)
        if isAllowListed(host: host) { return }
        let addresses: [IPAddress]
        do {
            addresses = try await HostResolver.resolve(host)
        } catch let failure as HostResolver.Failure {
            throw OutboundURLError(reason: .unresolvable(failure.reason), host: host)
        }
        try checkAddresses(addresses, host: host)
    }

    /// A host as the allow-list stores it: lowercased, without IPv6 brackets or a trailing dot.
    static func normalizedHost(_ host: String) -> String {
        var host = Substring(host.lowercased())
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        if host.hasSuffix(".") { host = host.dropLast() }
        return String(host)
    }
}
