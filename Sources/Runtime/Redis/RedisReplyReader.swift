private import CHiredis

/// hiredis's RESP parser without its socket: bytes read from a connection go in, whole replies
/// come out. It owns the `redisReader` and frees it in `deinit`. Used by one event loop only.
final class RedisReplyReader {
    private let reader: UnsafeMutablePointer<redisReader>

    /// A reader with hiredis's default reply objects.
    init() throws {
        guard let reader = redisReaderCreate() else {
            throw RedisError(code: .connection, message: "hiredis could not allocate a reply reader")
        }
        self.reader = reader
    }

    deinit {
        redisReaderFree(reader)
    }

    /// Adds bytes read from the connection.
    func feed(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        guard redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count) == REDIS_OK else {
            throw failure()
        }
    }

    /// The next whole reply, or nil until more bytes arrive. Throws `protocol` for bytes that
    /// are not RESP; the reader is unusable afterwards.
    func next() throws -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw failure() }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    private func failure() -> RedisError {
        let message = withUnsafeBytes(of: reader.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return RedisError(
            code: .protocol, message: message.isEmpty ? "the server sent something that is not RESP" : message)
    }

    private static func convert(_ pointer: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let reply = pointer.pointee
        func bytes() -> [UInt8] {
            guard let text = reply.str, reply.len > 0 else { return [] }
            return text.withMemoryRebound(to: UInt8.self, capacity: reply.len) {
                Array(UnsafeBufferPointer(start: $0, count: reply.len))
            }
        }
        switch reply.type {
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(reply.integer))
        case REDIS_REPLY_STRING:
            return .bulk(bytes())
        case REDIS_REPLY_ARRAY:
            return .array((0..<reply.elements).map { index in reply.element[index].map(convert) ?? .null })
        default:
            return .null
        }
    }
}
