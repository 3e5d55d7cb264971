public import NIOHTTP1
public import RPCCore

/// An error as the edge answers it: the HTTP status, and the JSON body
/// `{"code": "NOT_FOUND", "message": "…", "details": {…}}` (`details`, the call's
/// `agentplane.v1.ErrorDetails` in proto3 JSON, only when there is one).
public struct EdgeError: Error, Sendable {
    /// The HTTP status.
    public let status: HTTPResponseStatus
    /// The gRPC status name, e.g. `NOT_FOUND`.
    public let code: String
    /// What went wrong, for people.
    public let message: String
    /// `ErrorDetails` already in JSON, if any.
    public let detailsJSON: [UInt8]?
    /// Seconds to wait before retrying, for a `Retry-After` header.
    public let retryAfterSeconds: Int?

    /// An error the edge makes itself.
    public init(
        status: HTTPResponseStatus, code: String, message: String, detailsJSON: [UInt8]? = nil,
        retryAfterSeconds: Int? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.detailsJSON = detailsJSON
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// A service's error, with the HTTP status of the standard gRPC → HTTP mapping.
    public init(_ error: RPCError, detailsJSON: [UInt8]?, retryAfterSeconds: Int? = nil) {
        self.init(
            status: Self.httpStatus(error.code), code: Self.name(error.code), message: error.message,
            detailsJSON: detailsJSON, retryAfterSeconds: retryAfterSeconds)
    }

    /// The JSON body.
    public func jsonBody() -> [UInt8] {
        var out = Array(#"{"code":"#.utf8)
        JSONWriting.appendString(code, to: &out)
        out += Array(#","message":"#.utf8)
        JSONWriting.appendString(message, to: &out)
        if let detailsJSON {
            out += Array(#","details":"#.utf8)
            out += detailsJSON
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// INVALID_ARGUMENT (400) for a request the edge cannot read.
    public static func badRequest(_ message: String) -> EdgeError {
        EdgeError(status: .badRequest, code: "INVALID_ARGUMENT", message: message)
    }

    /// The standard mapping of gRPC status codes to HTTP statuses (google.rpc.Code).
    public static func httpStatus(_ code: Status.Code) -> HTTPResponseStatus {
        switch code {
        case .ok: .ok
        case .cancelled: .custom(code: 499, reasonPhrase: "Client Closed Request")
        case .invalidArgument, .failedPrecondition, .outOfRange: .badRequest
        case .deadlineExceeded: .gatewayTimeout
        case .notFound: .notFound
        case .alreadyExists, .aborted: .conflict
        case .permissionDenied: .forbidden
        case .unauthenticated: .unauthorized
        case .resourceExhausted: .tooManyRequests
        case .unimplemented: .notImplemented
        case .unavailable: .serviceUnavailable
        default: .internalServerError
        }
    }

    /// A status code's name, e.g. `NOT_FOUND`.
    public static func name(_ code: Status.Code) -> String {
        switch code {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internalError: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        default: "UNKNOWN"
        }
    }
}

/// The few JSON pieces the edge writes itself (errors, event streams).
enum JSONWriting {
    private static let hex = Array("0123456789abcdef".utf8)

    /// Appends `text` as a JSON string literal.
    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [0x5C, 0x22]
            case UInt8(ascii: "\\"): out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0..<0x20, 0x7F:
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
