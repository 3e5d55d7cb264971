/// A streaming `multipart/form-data` reader (RFC 7578): fed the body piece by piece as it
/// arrives, it returns each part's start (with its Content-Disposition name and file name and its
/// Content-Type), its bytes, and its end — never holding more than a part's headers and a
/// delimiter's worth of bytes. A plain state machine; the upload drives it.
struct MultipartParser: Sendable {
    /// What the body held so far.
    enum Event: Sendable, Equatable {
        /// A part begins.
        case partStarted(name: String?, fileName: String?, contentType: String?)
        /// The next bytes of the current part.
        case data([UInt8])
        /// The current part ended.
        case partEnded
    }

    /// Why a body is not well-formed multipart.
    struct Failure: Error, Sendable, CustomStringConvertible {
        let description: String
    }

    private enum State: Sendable {
        case preamble
        case afterDelimiter
        case headers
        case body
        case done
    }

    /// The largest header block of one part.
    static let maximumHeaderBytes = 8 << 10

    private let delimiter: [UInt8]
    private var buffer: [UInt8]
    private var state = State.preamble

    /// A parser for `boundary` (the content type's `boundary` parameter, 1–70 characters).
    init(boundary: String) throws(Failure) {
        guard (1...70).contains(boundary.utf8.count), boundary.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw Failure(description: "the multipart boundary must be 1-70 printable characters")
        }
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first delimiter has no CRLF before it: pretend there was one.
        buffer = [0x0D, 0x0A]
    }

    /// The boundary parameter of a `multipart/form-data; boundary=…` content type.
    static func boundary(of contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let parts = parameter.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmed.lowercased() == "boundary" else { continue }
            var value = parts[1].trimmed
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            return String(value)
        }
        return nil
    }

    /// Whether the closing delimiter has been read.
    var isFinished: Bool {
        if case .done = state { return true }
        return false
    }

    /// Takes the next piece of the body.
    mutating func feed(_ bytes: some Collection<UInt8>) throws(Failure) -> [Event] {
        buffer += bytes
        var events: [Event] = []
        while true {
            switch state {
            case .preamble:
                guard let index = find(delimiter) else {
                    // Keep only what may still begin the delimiter.
                    buffer.removeFirst(max(0, buffer.count - delimiter.count))
                    return events
                }
                buffer.removeFirst(index + delimiter.count)
                state = .afterDelimiter
            case .afterDelimiter:
                guard buffer.count >= 2 else { return events }
                if buffer[0] == UInt8(ascii: "-"), buffer[1] == UInt8(ascii: "-") {
                    state = .done
                    buffer.removeAll()
                    return events
                }
                guard buffer[0] == 0x0D, buffer[1] == 0x0A else {
                    throw Failure(description: "a multipart delimiter is not followed by a line end")
                }
                buffer.removeFirst(2)
                state = .headers
            case .headers:
                guard buffer.count >= 2 else { return events }
                // A part without headers: the block is just the empty line.
                if buffer[0] == 0x0D, buffer[1] == 0x0A {
                    buffer.removeFirst(2)
                    events.append(.partStarted(name: nil, fileName: nil, contentType: nil))
                    state = .body
                    continue
                }
                guard let end = find([0x0D, 0x0A, 0x0D, 0x0A]) else {
                    if buffer.count > Self.maximumHeaderBytes {
                        throw Failure(description: "a multipart part's headers are larger than 8 KiB")
                    }
                    return events
                }
                guard end <= Self.maximumHeaderBytes else {
                    throw Failure(description: "a multipart part's headers are larger than 8 KiB")
                }
                let block = Array(buffer[..<end])
                buffer.removeFirst(end + 4)
                events.append(try Self.partStart(block))
                state = .body
            case .body:
                if let index = find(delimiter) {
                    if index > 0 { events.append(.data(Array(buffer[..<index]))) }
                    events.append(.partEnded)
                    buffer.removeFirst(index + delimiter.count)
                    state = .afterDelimiter
                } else {
                    let keep = delimiter.count - 1
                    if buffer.count > keep {
                        events.append(.data(Array(buffer[..<(buffer.count - keep)])))
                        buffer.removeFirst(buffer.count - keep)
                    }
                    return events
                }
            case .done:
                buffer.removeAll()
                return events
            }
        }
    }

    /// The body ended: an error unless the closing delimiter came.
    func finish() throws(Failure) {
        guard isFinished else { throw Failure(description: "the multipart body ended before its closing delimiter") }
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        var index = 0
        let last = buffer.count - needle.count
        while index <= last {
            if buffer[index] == needle[0] {
                var matched = true
                for offset in 1..<needle.count where buffer[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }

    private static func partStart(_ block: [UInt8]) throws(Failure) -> Event {
        guard let text = String(validating: block, as: UTF8.self) else {
            throw Failure(description: "a multipart part's headers are not UTF-8")
        }
        var name: String?
        var fileName: String?
        var contentType: String?
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { throw Failure(description: "a multipart header line has no colon") }
            let value = parts[1].trimmed
            switch parts[0].trimmed.lowercased() {
            case "content-disposition":
                for parameter in value.split(separator: ";").dropFirst() {
                    let pair = parameter.split(separator: "=", maxSplits: 1)
                    guard pair.count == 2 else { continue }
                    var text = pair[1].trimmed
                    if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 {
                        text = text.dropFirst().dropLast()
                    }
                    switch pair[0].trimmed.lowercased() {
                    case "name": name = String(text)
                    case "filename": fileName = String(text)
                    default: break
                    }
                }
            case "content-type":
                contentType = String(value)
            default:
                break
            }
        }
        return .partStarted(name: name, fileName: fileName, contentType: contentType)
    }
}

extension Substring {
    fileprivate var trimmed: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
