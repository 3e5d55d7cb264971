/// Splits a `text/event-stream` body into the `data` of each event, whatever the chunking:
/// lines end with LF or CRLF, an empty line ends an event, several `data:` lines join with LF,
/// comments (`:`) and other fields are ignored.
struct ServerSentEventParser: Sendable {
    private var buffer: [UInt8] = []
    private var data: [String] = []

    /// Feeds bytes; returns the data of every event they complete.
    mutating func feed(_ bytes: [UInt8]) -> [String] {
        buffer += bytes
        var events: [String] = []
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            var line = buffer[..<newline]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            buffer.removeSubrange(...newline)
            if line.isEmpty {
                if !data.isEmpty { events.append(data.joined(separator: "\n")) }
                data = []
                continue
            }
            let text = String(decoding: line, as: UTF8.self)
            guard text.hasPrefix("data:") else { continue }
            var value = text.dropFirst(5)
            if value.first == " " { value = value.dropFirst() }
            data.append(String(value))
        }
        return events
    }

    /// The data of an event left unterminated when the body ended.
    mutating func finish() -> String? {
        defer { data = [] }
        if !buffer.isEmpty {
            _ = feed([UInt8(ascii: "\n")])
        }
        return data.isEmpty ? nil : data.joined(separator: "\n")
    }
}
