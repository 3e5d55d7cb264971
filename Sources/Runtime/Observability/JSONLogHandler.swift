public import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A log handler that writes one JSON object per line, for log shippers (ELK, Loki) to index
/// without parsing free text.
///
/// Fields: `ts` (RFC 3339, UTC, milliseconds), `level`, `service`, `logger` (the logger's
/// label), `message`, then the metadata: the handler's own, its metadata provider's,
/// `LogContext.metadata`, and the call's, later ones winning on the same key. Nested metadata
/// becomes JSON objects and arrays; a metadata key equal to one of the fixed fields is written
/// as `meta.<key>`. An error passed to the log call is written as `error` unless the metadata
/// has that key.
public struct JSONLogHandler: LogHandler {
    /// The logger's label, written as `logger`.
    public let label: String
    /// The service name, written as `service`.
    public let service: String
    /// Lines below this level are dropped.
    public var logLevel: Logger.Level
    /// Metadata on every line of this logger.
    public var metadata: Logger.Metadata = [:]
    /// Contributes metadata at the time of each log call.
    public var metadataProvider: Logger.MetadataProvider?
    private let output: (@Sendable (String) -> Void)?

    /// A handler writing to standard error, or to `output`, which receives each line without
    /// its newline.
    public init(
        label: String, service: String, level: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil, output: (@Sendable (String) -> Void)? = nil
    ) {
        self.label = label
        self.service = service
        self.logLevel = level
        self.metadataProvider = metadataProvider
        self.output = output
    }

    /// Metadata of this logger by key.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one line for the event.
    public func log(event: LogEvent) {
        var json = JSONText()
        json.raw("{\"ts\":\"")
        Self.appendTimestamp(to: &json)
        json.raw("\",\"level\":")
        json.string(event.level.rawValue)
        json.raw(",\"service\":")
        json.string(service)
        json.raw(",\"logger\":")
        json.string(label)
        json.raw(",\"message\":")
        json.string(event.message.description)

        var merged = mergedMetadata(event.metadata)
        if let error = event.error, merged["error"] == nil {
            merged["error"] = .string(String(describing: error))
        }
        for key in merged.keys.sorted() {
            json.raw(UInt8(ascii: ","))
            json.key(Self.fixedFields.contains(key) ? "meta." + key : key)
            Self.append(merged[key]!, to: &json)
        }
        json.raw(UInt8(ascii: "}"))

        if let output {
            output(String(decoding: json.bytes, as: UTF8.self))
        } else {
            var line = json.bytes
            line.append(UInt8(ascii: "\n"))
            Self.writeToStandardError(line)
        }
    }

    private static let fixedFields: Set<String> = ["ts", "level", "service", "logger", "message"]

    private func mergedMetadata(_ call: Logger.Metadata?) -> Logger.Metadata {
        var merged = metadata
        for extra in [metadataProvider?.get() ?? [:], LogContext.metadata, call ?? [:]] where !extra.isEmpty {
            if merged.isEmpty {
                merged = extra
            } else {
                merged.merge(extra) { _, new in new }
            }
        }
        return merged
    }

    private static func append(_ value: Logger.Metadata.Value, to json: inout JSONText) {
        switch value {
        case .string(let string):
            json.string(string)
        case .stringConvertible(let convertible):
            json.string(convertible.description)
        case .array(let values):
            json.raw(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { json.raw(UInt8(ascii: ",")) }
                append(element, to: &json)
            }
            json.raw(UInt8(ascii: "]"))
        case .dictionary(let dictionary):
            json.raw(UInt8(ascii: "{"))
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { json.raw(UInt8(ascii: ",")) }
                json.key(key)
                append(dictionary[key]!, to: &json)
            }
            json.raw(UInt8(ascii: "}"))
        }
    }

    /// `2025-01-31T12:34:56.789Z`, written digit by digit because formatters are slow and
    /// not all of them are thread-safe.
    private static func appendTimestamp(to json: inout JSONText) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var value = value
            while divisor > 0 {
                json.raw(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                value %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        json.raw(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        json.raw(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        json.raw(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        json.raw(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        json.raw(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        json.raw(UInt8(ascii: "."))
        digits(Int(now.tv_nsec) / 1_000_000, 3)
        json.raw(UInt8(ascii: "Z"))
    }

    /// Serialises writers so that a line cut short by a partial write is finished before
    /// another thread's line starts.
    private static let standardErrorLock = Mutex(())

    private static func writeToStandardError(_ line: [UInt8]) {
        standardErrorLock.withLock { _ in
            line.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }
}
