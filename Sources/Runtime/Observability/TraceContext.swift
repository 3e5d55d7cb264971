/// A W3C Trace Context position: which trace a piece of work belongs to and which span is
/// doing it, carried between services in the `traceparent` and `tracestate` metadata.
///
/// See https://www.w3.org/TR/trace-context/. Ids are lower-case hex and never all zeros.
public struct TraceContext: Sendable, Hashable, CustomStringConvertible {
    /// The trace id: 32 lower-case hex digits, shared by every span of one trace.
    public let traceID: String
    /// This span's id: 16 lower-case hex digits, sent as the parent id of calls it makes.
    public let spanID: String
    /// The trace flags; bit 0 is "sampled".
    public var flags: UInt8
    /// Vendor-specific `tracestate`, carried along unchanged.
    public var traceState: String?

    /// The trace context of the work the current task does, if any.
    @TaskLocal public static var current: TraceContext?

    /// A context from ids already validated, used by the factories below.
    private init(traceID: String, spanID: String, flags: UInt8, traceState: String?) {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
        self.traceState = traceState
    }

    /// Parses a `traceparent` value, e.g. `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`;
    /// nil when it is invalid: wrong lengths or separators, upper-case or non-hex digits,
    /// all-zero ids, version `ff`, or version 00 with anything after the flags.
    public init?(traceparent: String, tracestate: String? = nil) {
        // Header values may arrive with optional whitespace around them (RFC 9110 OWS).
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var bytes = Array(traceparent.utf8)
        while let last = bytes.last, isSpace(last) { bytes.removeLast() }
        bytes.removeFirst(bytes.prefix(while: isSpace).count)
        guard bytes.count >= 55, bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"),
            bytes[52] == UInt8(ascii: "-"),
            let version = Self.hexValue(bytes[0..<2]), version != 0xFF,
            Self.isLowerHex(bytes[3..<35]), Self.isLowerHex(bytes[36..<52]),
            let flags = Self.hexValue(bytes[53..<55])
        else { return nil }
        // Version 00 is exactly 55 characters; a later version may append fields after a dash.
        if version == 0 ? bytes.count != 55 : bytes.count > 55 && bytes[55] != UInt8(ascii: "-") { return nil }
        let traceID = String(decoding: bytes[3..<35], as: UTF8.self)
        let spanID = String(decoding: bytes[36..<52], as: UTF8.self)
        guard traceID.utf8.contains(where: { $0 != UInt8(ascii: "0") }),
            spanID.utf8.contains(where: { $0 != UInt8(ascii: "0") })
        else { return nil }
        self.init(
            traceID: traceID, spanID: spanID, flags: UInt8(flags),
            traceState: tracestate.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// A new trace with random ids, sampled unless told otherwise.
    public static func random(sampled: Bool = true) -> TraceContext {
        TraceContext(
            traceID: randomHex(words: 2), spanID: randomHex(words: 1), flags: sampled ? 1 : 0, traceState: nil)
    }

    /// A new span in the same trace, child of this one: same trace id, flags and state.
    public func child() -> TraceContext {
        TraceContext(traceID: traceID, spanID: Self.randomHex(words: 1), flags: flags, traceState: traceState)
    }

    /// Whether the caller records this trace (flag bit 0).
    public var isSampled: Bool { flags & 1 == 1 }

    /// The `traceparent` value naming this span as the parent: `00-<trace id>-<span id>-<flags>`.
    public var traceparent: String {
        "00-\(traceID)-\(spanID)-\(Self.hex(UInt64(flags), digits: 2))"
    }

    /// The `traceparent` value.
    public var description: String { traceparent }

    private static func isLowerHex(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    private static func hexValue(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard isLowerHex(bytes) else { return nil }
        return bytes.reduce(0) { $0 << 4 | Int($1 <= 0x39 ? $1 - 0x30 : $1 - 0x61 + 10) }
    }

    private static func randomHex(words: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String(unsafeUninitializedCapacity: 16 * words) { buffer in
            var index = 0
            for _ in 0..<words {
                var word: UInt64 = 0
                while word == 0 { word = generator.next() }
                for shift in stride(from: 60, through: 0, by: -4) {
                    buffer[index] = hexDigits[Int((word >> UInt64(shift)) & 0xF)]
                    index += 1
                }
            }
            return index
        }
    }

    /// Lower-case hexadecimal digits by value.
    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
