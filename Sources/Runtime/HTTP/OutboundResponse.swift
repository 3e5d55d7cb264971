public import Foundation

/// A complete response to an outbound call, whatever its status.
public struct OutboundResponse: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// The response headers.
    public var headers: OutboundHeaders
    /// The whole body, within the size limit.
    public var body: [UInt8]
    /// The URL that answered, after any redirects.
    public var url: URL

    /// A response.
    public init(status: Int, headers: OutboundHeaders, body: [UInt8], url: URL) {
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
    }
}

/// A response whose body arrives in chunks as the server sends them (server-sent events).
public struct OutboundStreamingResponse: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// The response headers.
    public var headers: OutboundHeaders
    /// The URL that answered, after any redirects.
    public var url: URL
    /// The body's chunks. It fails with `OutboundHTTPError` (`.tooLarge`, `.timeout`,
    /// `.connection`); releasing it, or cancelling the task that iterates it, cancels the request.
    public var body: AsyncThrowingStream<[UInt8], any Error>

    /// A streaming response.
    public init(status: Int, headers: OutboundHeaders, url: URL, body: AsyncThrowingStream<[UInt8], any Error>) {
        self.status = status
        self.headers = headers
        self.url = url
        self.body = body
    }
}
