/// Splits a newline-delimited JSON body into its lines, whatever the chunking.
struct LineSplitter: Sendable {
    private var buffer: [UInt8] = []

    /// Feeds bytes; returns every complete non-empty line.
    mutating func feed(_ bytes: [UInt8]) -> [[UInt8]] {
        buffer += bytes
        var lines: [[UInt8]] = []
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            var line = Array(buffer[..<newline])
            buffer.removeSubrange(...newline)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if !line.isEmpty { lines.append(line) }
        }
        return lines
    }

    /// A last line without a newline, if any.
    mutating func finish() -> [UInt8]? {
        defer { buffer = [] }
        return buffer.isEmpty ? nil : buffer
    }
}
