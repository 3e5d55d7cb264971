/// Splits a stream of DATA bytes into gRPC's length-prefixed messages (a flag byte, a 4-byte
/// big-endian length, the message) and refuses messages above a size limit before reading them.
struct MessageDeframer {
    /// What the buffered bytes hold next.
    enum Next: Equatable {
        case message([UInt8])
        case needMoreData
        /// The prefix announces a message longer than the limit.
        case tooLarge(UInt32)
        /// The compressed flag is set; we negotiate identity only.
        case compressed
    }

    let maximumMessageSize: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0

    init(maximumMessageSize: Int) {
        self.maximumMessageSize = maximumMessageSize
    }

    /// Bytes buffered and not yet returned as messages.
    var bufferedCount: Int { buffer.count - readIndex }

    /// Takes whole messages straight from `bytes` while nothing is buffered, so the common
    /// case (a message that arrives in one piece) is copied once; the rest is appended.
    mutating func appendTakingWholeMessages(_ bytes: UnsafeRawBufferPointer, into messages: (Next) -> Bool) {
        var remaining = bytes[...]
        while bufferedCount == 0, remaining.count >= 5 {
            let flag = remaining[remaining.startIndex]
            let length =
                UInt32(remaining[remaining.startIndex + 1]) << 24 | UInt32(remaining[remaining.startIndex + 2]) << 16
                | UInt32(remaining[remaining.startIndex + 3]) << 8 | UInt32(remaining[remaining.startIndex + 4])
            if flag != 0 || length > maximumMessageSize || remaining.count < 5 + Int(length) { break }
            let start = remaining.startIndex + 5
            guard messages(.message(Array(remaining[start..<start + Int(length)]))) else { return }
            remaining = remaining[(start + Int(length))...]
        }
        if !remaining.isEmpty { append(UnsafeRawBufferPointer(rebasing: remaining)) }
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if readIndex > 0, readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    mutating func next() -> Next {
        let available = buffer.count - readIndex
        guard available >= 5 else { return .needMoreData }
        let flag = buffer[readIndex]
        let length =
            UInt32(buffer[readIndex + 1]) << 24 | UInt32(buffer[readIndex + 2]) << 16
            | UInt32(buffer[readIndex + 3]) << 8 | UInt32(buffer[readIndex + 4])
        if flag != 0 { return .compressed }
        if length > maximumMessageSize { return .tooLarge(length) }
        guard available >= 5 + Int(length) else {
            // Reserve only for what has arrived: a 5-byte prefix announcing a large message
            // must not make us allocate it (memory for nothing, on many streams at once).
            if Int(length) <= 64 << 10 { buffer.reserveCapacity(readIndex + 5 + Int(length)) }
            return .needMoreData
        }
        let start = readIndex + 5
        let message = Array(buffer[start..<start + Int(length)])
        readIndex = start + Int(length)
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 64 << 10)
            readIndex = 0
        } else if readIndex > 64 << 10 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        return .message(message)
    }
}

/// Writes gRPC's length prefix in front of a message.
enum MessageFramer {
    static func append(_ message: [UInt8], to buffer: inout [UInt8]) {
        let length = UInt32(message.count)
        buffer.append(0)
        buffer.append(UInt8(length >> 24))
        buffer.append(UInt8(length >> 16 & 0xFF))
        buffer.append(UInt8(length >> 8 & 0xFF))
        buffer.append(UInt8(length & 0xFF))
        buffer.append(contentsOf: message)
    }
}

/// Bytes waiting to be sent on one stream, taken from the front as nghttp2 asks for them.
struct OutboundBuffer {
    private var bytes: [UInt8] = []
    private var readIndex = 0

    var count: Int { bytes.count - readIndex }
    var isEmpty: Bool { readIndex == bytes.count }

    mutating func appendMessage(_ message: [UInt8]) {
        if readIndex > 0, readIndex == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        MessageFramer.append(message, to: &bytes)
    }

    /// Appends bytes as they are (a plain HTTP response's body).
    mutating func appendRaw(_ raw: UnsafeRawBufferPointer) {
        if readIndex > 0, readIndex == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        bytes.append(contentsOf: raw)
    }

    /// Copies up to `buffer.count` bytes into `buffer`; returns how many.
    mutating func take(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, bytes.count - readIndex)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + readIndex, byteCount: count)
        }
        readIndex += count
        if readIndex == bytes.count {
            bytes.removeAll(keepingCapacity: bytes.capacity <= 64 << 10)
            readIndex = 0
        } else if readIndex > 256 << 10 {
            bytes.removeFirst(readIndex)
            readIndex = 0
        }
        return count
    }
}
