/// A secret value (a signing key, a password, a token). It prints as `<redacted>` everywhere —
/// `description`, `debugDescription`, `dump` — so logging a configuration or an error that holds
/// one never leaks it; the value comes out only through an explicit `reveal` call.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private let bytes: [UInt8]

    /// A secret holding a string's UTF-8 bytes.
    public init(_ value: String) {
        bytes = Array(value.utf8)
    }

    /// A secret holding raw bytes (e.g. a decoded key).
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The secret as text, for the one place that must use it (invalid UTF-8 is replaced).
    public func reveal() -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// The secret's bytes, for the one place that must use them.
    public func revealBytes() -> [UInt8] {
        bytes
    }

    /// The secret's length in bytes; safe to report.
    public var byteCount: Int { bytes.count }

    /// Always `<redacted>`.
    public var description: String { "<redacted>" }

    /// Always `<redacted>`.
    public var debugDescription: String { "<redacted>" }

    /// A mirror with no children, so reflection-based printing cannot reach the value.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
