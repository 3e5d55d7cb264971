import Foundation
import RPCModels
import Saturating

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A JSON value for `--json` output; objects keep their keys in the order given, so output
/// reads like the proto messages it mirrors.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case integer(Int64)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool { lhs.text == rhs.text }

    /// The value as compact JSON text.
    var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .integer(let value): out += String(value)
        case .number(let value):
            if !value.isFinite {
                out += "null"
            } else if value == value.rounded(), abs(value) < 1e15 {
                out += String(Int64(value))
            } else {
                out += String(value)
            }
        case .string(let value): JSONValue.writeString(value, to: &out)
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                value.write(to: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (index, (key, value)) in pairs.enumerated() {
                if index > 0 { out += "," }
                JSONValue.writeString(key, to: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ value: String, to out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let control where control.value < 0x20:
                out += String(format: "\\u%04x", control.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

/// Builds JSON objects field by field, leaving out empty optional values.
struct JSONObject {
    private(set) var pairs: [(String, JSONValue)] = []

    /// Adds a value.
    mutating func set(_ key: String, _ value: JSONValue) { pairs.append((key, value)) }
    /// Adds a string (always, even empty: ids and names are part of a message's shape).
    mutating func set(_ key: String, _ value: String) { pairs.append((key, .string(value))) }
    /// Adds an integer.
    mutating func set(_ key: String, _ value: some BinaryInteger) { pairs.append((key, .integer(Int64(value)))) }
    /// Adds a boolean.
    mutating func set(_ key: String, _ value: Bool) { pairs.append((key, .bool(value))) }
    /// Adds a timestamp as RFC 3339, or nothing when absent.
    mutating func set(_ key: String, _ value: Google_Protobuf_Timestamp?) {
        if let value { pairs.append((key, .string(formatISO(value.date)))) }
    }
    /// Adds a string list.
    mutating func set(_ key: String, _ values: [String]) { pairs.append((key, .array(values.map { .string($0) }))) }
    /// Adds a string map, sorted by key.
    mutating func set(_ key: String, _ values: [String: String]) {
        pairs.append((key, .object(values.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
    }

    /// The object.
    var value: JSONValue { .object(pairs) }
}

/// Writes to the terminal's streams.
enum Terminal {
    /// Writes text to stdout at once (streamed answers must show as they arrive).
    static func write(_ text: String) {
        // A reader that went away (`agentctl ... | head -1`) has seen all it wants.
        if !writeAll(text, to: STDOUT_FILENO) { exit(0) }
    }

    /// Writes all of `text` to a descriptor; false when it cannot be written.
    private static func writeAll(_ text: String, to descriptor: Int32) -> Bool {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    /// Writes one line to stdout.
    static func line(_ text: String = "") { write(text + "\n") }

    /// Writes `error: <first line>` and the following lines to stderr.
    static func error(_ lines: [String]) {
        guard let first = lines.first else { return }
        let text = (["error: " + first] + lines.dropFirst()).joined(separator: "\n") + "\n"
        _ = writeAll(text, to: STDERR_FILENO)
    }

    /// Writes a line to stderr, for notes that are not the command's result.
    static func note(_ text: String) {
        _ = writeAll(text + "\n", to: STDERR_FILENO)
    }

    /// True when stdin is a terminal (then prompts make sense).
    static var inputIsInteractive: Bool { isatty(STDIN_FILENO) == 1 }
}

/// The C library's write(2), named apart from `Terminal.write`.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

/// Prints a command's results as tables and lines, or as JSON with `--json`.
struct Output: Sendable {
    /// JSON instead of text.
    let json: Bool

    /// Prints one JSON value on a line.
    func emit(_ value: JSONValue) { Terminal.line(value.text) }

    /// Prints rows under headers with aligned columns; the last column is not padded (it is
    /// usually free text). An empty table prints `empty` instead.
    func table(_ headers: [String], _ rows: [[String]], empty: String) {
        guard !rows.isEmpty else {
            Terminal.line(empty)
            return
        }
        let all = [headers] + rows.map { row in row.map(Self.singleLine) }
        var widths = Array(repeating: 0, count: headers.count)
        for row in all {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        for row in all {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }
            Terminal.line(cells.joined(separator: "  ").trimmingTrailingSpaces())
        }
    }

    /// Prints `label: value` lines with the labels aligned; empty values are left out.
    func fields(_ pairs: [(String, String)]) {
        let shown = pairs.filter { !$0.1.isEmpty }
        let width = shown.map(\.0.count).max() ?? 0
        for (label, value) in shown {
            Terminal.line((label + ":").padding(toLength: width + 1, withPad: " ", startingAt: 0) + " " + value)
        }
    }

    /// Free text in a table cell: one line, at most 60 characters.
    private static func singleLine(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        return flat.count > 60 ? String(flat.prefix(59)) + "…" : flat
    }
}

extension String {
    /// The string without trailing spaces.
    func trimmingTrailingSpaces() -> String {
        var result = self
        while result.last == " " { result.removeLast() }
        return result
    }
}

/// RFC 3339 with milliseconds, in UTC.
func formatISO(_ date: Date) -> String {
    date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
}

/// A local time for tables, e.g. `2026-11-26 23:10:05`; `-` when absent.
func formatTime(_ timestamp: Google_Protobuf_Timestamp?) -> String {
    guard let timestamp else { return "-" }
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
    formatter.locale = Locale(identifier: "en_US_POSIX")
    return formatter.string(from: timestamp.date)
}

/// Milliseconds of a duration, rounded.
func milliseconds(_ duration: Google_Protobuf_Duration?) -> Int64 {
    guard let duration else { return 0 }
    // A server's numbers are checked like a client's: saturate instead of trapping.
    return Saturating.add(Saturating.multiply(duration.seconds, 1000), Int64((Double(duration.nanos) / 1e6).rounded()))
}

/// A duration for people: `12 ms`, `1.5 s`.
func formatDuration(_ duration: Google_Protobuf_Duration?) -> String {
    let ms = milliseconds(duration)
    if ms < 1000 { return "\(ms) ms" }
    return String(format: "%.1f s", Double(ms) / 1000)
}

/// A byte count for people: `812 B`, `4.2 KiB`, `1.3 MiB`.
func formatBytes(_ bytes: Int64) -> String {
    if bytes < 1024 { return "\(bytes) B" }
    if bytes < 1 << 20 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
    return String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
}
