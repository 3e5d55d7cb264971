import AsyncHTTPClient
import Foundation
public import NIOCore
import Saturating

/// The HTTP client for URLs tenants supply: every call, and every redirect it follows, passes the
/// `OutboundURLPolicy`; bodies are read up to a size bound and calls end at their time limit.
///
/// It owns AsyncHTTPClient clients on a shared event loop group, so call `shutdown()` before
/// releasing it. Redirects are followed here, not by AsyncHTTPClient, so each target is checked.
/// Connections to hosts that are not allow-listed are also checked once connected: a peer at a
/// non-public address is refused, so a name that resolves differently the second time (DNS
/// rebinding) cannot reach a private network.
public final class OutboundHTTPClient: Sendable {
    /// The rules every call follows.
    public let policy: OutboundURLPolicy
    /// For hosts that are not allow-listed; refuses connections to non-public peers.
    private let guardedClient: HTTPClient
    /// For allow-listed hosts, which may be at private addresses; nil when the list is empty.
    private let allowListedClient: HTTPClient?

    /// A client following `policy`, on `eventLoopGroup` (default: NIO's shared singleton group).
    public init(policy: OutboundURLPolicy, eventLoopGroup: (any EventLoopGroup)? = nil) {
        self.policy = policy
        let group = eventLoopGroup ?? HTTPClient.defaultEventLoopGroup
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: Self.timeAmount(policy.timeout)),
            decompression: .disabled)
        // A failed connection fails the call at once; the caller's retry policy decides what next.
        configuration.connectionPool.retryConnectionEstablishment = false
        allowListedClient =
            policy.allowedInsecureHosts.isEmpty ? nil : HTTPClient(eventLoopGroup: group, configuration: configuration)
        configuration.http1_1ConnectionDebugInitializer = PeerAddressGuard.check
        configuration.http2ConnectionDebugInitializer = PeerAddressGuard.check
        guardedClient = HTTPClient(eventLoopGroup: group, configuration: configuration)
    }

    /// Closes every connection. Call once, when no call is in flight.
    public func shutdown() async throws {
        try await guardedClient.shutdown()
        try await allowListedClient?.shutdown()
    }

    /// The longest time limit a call may ask for: a request's `timeout` beyond it (or below
    /// zero) is clamped, so no caller-supplied duration reaches the clock's arithmetic unchecked.
    public static let maximumTimeout: Duration = .seconds(24 * 3600)

    /// Sends a request and reads the whole response, following redirects the policy allows.
    /// Any status is returned; throws `OutboundHTTPError`, or `CancellationError` when the task is
    /// cancelled.
    public func execute(_ request: OutboundRequest) async throws -> OutboundResponse {
        try await execute(request, checkingURLs: true)
    }

    /// `execute`, optionally without the URL check (tests use this to reach the connection guard).
    func execute(_ request: OutboundRequest, checkingURLs: Bool) async throws -> OutboundResponse {
        let limit = request.maximumResponseBytes ?? policy.maximumResponseBytes
        let timeout = timeLimit(of: request)
        let host = Self.host(of: request.url)
        return try await Self.mappingErrors(host: host) {
            try await Self.withTimeout(timeout, host: host) {
                let (response, url) = try await self.send(request, checkingURLs: checkingURLs)
                let body = try await Self.collect(response, limit: limit, host: Self.host(of: url))
                return OutboundResponse(
                    status: Int(response.status.code), headers: Self.headers(response), body: body, url: url)
            }
        }
    }

    /// Sends a request and returns as soon as the response head arrives, with the body as a
    /// stream of chunks (for server-sent events). The policy applies as for `execute`; the
    /// timeout bounds the wait for the head and each wait for more bytes, and the policy's
    /// `maximumStreamDuration` the whole stream.
    public func stream(_ request: OutboundRequest) async throws -> OutboundStreamingResponse {
        let limit = request.maximumResponseBytes ?? policy.maximumResponseBytes
        let timeout = timeLimit(of: request)
        let host = Self.host(of: request.url)
        let (response, url) = try await Self.mappingErrors(host: host) {
            try await Self.withTimeout(timeout, host: host) {
                try await self.send(request, checkingURLs: true)
            }
        }
        let finalHost = Self.host(of: url)
        if let declared = Self.contentLength(response), declared > limit {
            throw Self.tooLarge(finalHost, limit: limit)
        }
        let pump = BodyPump(
            body: response.body, host: finalHost, limit: limit, chunkSize: max(1, policy.maximumChunkBytes),
            idleTimeout: timeout, totalTimeout: policy.maximumStreamDuration)
        let body = AsyncThrowingStream<[UInt8], any Error> { continuation in
            let task = Task {
                do {
                    try await pump.run(into: continuation)
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: Self.mapped(error, host: finalHost))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return OutboundStreamingResponse(
            status: Int(response.status.code), headers: Self.headers(response), url: url, body: body)
    }

    /// The request's time limit (else the policy's), within `0...maximumTimeout`.
    private func timeLimit(of request: OutboundRequest) -> Duration {
        (request.timeout ?? policy.timeout).clamped(to: .zero...Self.maximumTimeout)
    }

    // MARK: Sending

    /// Sends the request and follows redirects, checking every URL; returns the final response,
    /// its body not yet read, and the URL that gave it.
    private func send(_ request: OutboundRequest, checkingURLs: Bool) async throws -> (HTTPClientResponse, URL) {
        var current = request
        var redirects = 0
        while true {
            if checkingURLs {
                do {
                    try await policy.check(current.url)
                } catch let error as OutboundURLError {
                    let message = redirects == 0 ? error.description : "redirect \(redirects): \(error.description)"
                    throw OutboundHTTPError(code: .policy, message: message, urlError: error)
                }
            }
            let response = try await client(for: current.url).execute(
                Self.clientRequest(current), deadline: .distantFuture)
            let status = Int(response.status.code)
            guard current.followsRedirects, Redirect.statuses.contains(status),
                let location = response.headers.first(name: "location")
            else { return (response, current.url) }

            // The redirect's own body is dropped unread, which closes its connection: cheaper
            // than reading an unbounded body nobody wants.
            redirects += 1
            let host = Self.host(of: current.url)
            guard redirects <= policy.maximumRedirects else {
                throw OutboundHTTPError(
                    code: .redirect, message: "\"\(host)\": more than \(policy.maximumRedirects) redirects")
            }
            guard let next = Redirect.follow(current, status: status, location: location) else {
                throw OutboundHTTPError(code: .redirect, message: "\"\(host)\": redirect without a usable Location")
            }
            current = next
        }
    }

    /// The client for a URL: the unguarded one only for allow-listed hosts.
    private func client(for url: URL) -> HTTPClient {
        if let allowListedClient, policy.isAllowListed(host: Self.host(of: url)) { return allowListedClient }
        return guardedClient
    }

    private static func clientRequest(_ request: OutboundRequest) -> HTTPClientRequest {
        var converted = HTTPClientRequest(url: request.url.absoluteString)
        converted.method = .init(rawValue: request.method.rawValue)
        for field in request.headers { converted.headers.add(name: field.name, value: field.value) }
        if !request.body.isEmpty { converted.body = .bytes(ByteBuffer(bytes: request.body)) }
        return converted
    }

    // MARK: Reading

    /// The whole body, refusing to read past `limit`.
    private static func collect(_ response: HTTPClientResponse, limit: Int, host: String) async throws -> [UInt8] {
        if let declared = contentLength(response), declared > limit { throw tooLarge(host, limit: limit) }
        var bytes: [UInt8] = []
        // Leaving the loop early drops the iterator, which cancels the request.
        for try await buffer in response.body {
            guard bytes.count + buffer.readableBytes <= limit else { throw tooLarge(host, limit: limit) }
            bytes.append(contentsOf: buffer.readableBytesView)
        }
        return bytes
    }

    private static func contentLength(_ response: HTTPClientResponse) -> Int? {
        response.headers.first(name: "content-length").flatMap { Int($0) }
    }

    private static func headers(_ response: HTTPClientResponse) -> OutboundHeaders {
        OutboundHeaders(response.headers.map { ($0.name, $0.value) })
    }

    // MARK: Errors and time

    static func tooLarge(_ host: String, limit: Int) -> OutboundHTTPError {
        OutboundHTTPError(code: .tooLarge, message: "\"\(host)\": response body over \(limit) bytes")
    }

    static func host(of url: URL) -> String {
        OutboundURLPolicy.normalizedHost(url.host ?? "")
    }

    /// Runs `operation`, failing with `.timeout` when it takes longer than `limit` (the operation
    /// is cancelled, which cancels its request).
    private static func withTimeout<T: Sendable>(
        _ limit: Duration, host: String, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask(operation: operation)
            group.addTask {
                try await Task.sleep(for: limit)
                throw OutboundHTTPError(code: .timeout, message: "\"\(host)\": no complete response within \(limit)")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// Runs `operation`, turning whatever it throws into `OutboundHTTPError` (or `CancellationError`).
    private static func mappingErrors<T>(host: String, _ operation: () async throws -> T) async throws -> T {
        do {
            return try await operation()
        } catch {
            throw mapped(error, host: host)
        }
    }

    /// An error from AsyncHTTPClient, NIO or the guard as `OutboundHTTPError`.
    static func mapped(_ error: any Error, host: String) -> any Error {
        switch error {
        case is OutboundHTTPError, is CancellationError:
            return error
        case let refused as PeerAddressGuard.Refused:
            let urlError = OutboundURLError(
                reason: .forbiddenAddress(refused.address, refused.address.classification), host: host)
            return OutboundHTTPError(code: .policy, message: urlError.description, urlError: urlError)
        case let error as HTTPClientError where error == .cancelled:
            return CancellationError()
        case let error as HTTPClientError
        where [.connectTimeout, .deadlineExceeded, .readTimeout, .writeTimeout, .tlsHandshakeTimeout].contains(error):
            return OutboundHTTPError(code: .timeout, message: "\"\(host)\": \(error)")
        default:
            return OutboundHTTPError(code: .connection, message: "\"\(host)\": \(error)")
        }
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.saturatingNanoseconds)
    }
}
