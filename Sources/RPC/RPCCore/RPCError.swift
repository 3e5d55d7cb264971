/// An RPC that ended with a status other than OK, with the trailing metadata that came with it.
///
/// Handlers throw it to choose the status a caller sees; clients receive it when a call fails.
/// Any other error a handler throws reaches the caller as UNKNOWN without its details.
public struct RPCError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The status code; never `.ok`.
    public var code: Status.Code
    /// A message for people.
    public var message: String
    /// Metadata sent in (or received with) the trailers, e.g. structured error details.
    public var metadata: Metadata

    /// An error with a code, message and trailing metadata.
    public init(code: Status.Code, message: String, metadata: Metadata = [:]) {
        self.code = code
        self.message = message
        self.metadata = metadata
    }

    /// The error as a status.
    public var status: Status { Status(code: code, message: message) }

    /// `CODE: message`.
    public var description: String { status.description }
}
