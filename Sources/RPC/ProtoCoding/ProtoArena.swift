/// Memory for one encode or decode: protobuf-c structs, strings and arrays.
///
/// It starts in a scratch buffer the caller provides (on the stack, via
/// `withUnsafeTemporaryAllocation`) and only then mallocs, in large chunks that are all freed
/// together when the arena goes away. Decoding hands it to protobuf-c as its allocator, so an
/// unpack costs no malloc or free per field and no walk to free the message afterwards.
package struct ProtoArena: ~Copyable {
    /// The scratch size generated code asks for: at most 1 KiB, because above that
    /// `withUnsafeTemporaryAllocation` first asks the system how much stack is left, which on
    /// Linux can read /proc/self/maps.
    package static let scratchSize = 1024

    @usableFromInline package var cursor: UnsafeMutableRawPointer
    @usableFromInline package var remaining: Int
    /// Malloc'd chunks, linked through their first word.
    private var chunks: UnsafeMutableRawPointer?
    private var nextChunkSize = 16 * 1024
    private static let header = 16
    /// Bytes handed out so far, for `encodedSizeBound`.
    @usableFromInline package var used = 0

    /// An arena that allocates from `scratch` first; the scratch must outlive it.
    package init(scratch: UnsafeMutableRawBufferPointer) {
        cursor = scratch.baseAddress!
        remaining = scratch.count
        chunks = nil
    }

    deinit {
        var next = chunks
        while let chunk = next {
            next = chunk.load(as: UnsafeMutableRawPointer?.self)
            chunk.deallocate()
        }
    }

    /// Uninitialised memory that lives as long as the arena.
    @inlinable
    package mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
        used &+= byteCount
        let misalignment = Int(bitPattern: cursor) & (alignment - 1)
        let padding = misalignment == 0 ? 0 : alignment - misalignment
        if padding + byteCount <= remaining {
            let start = cursor + padding
            cursor = start + byteCount
            remaining -= padding + byteCount
            return start
        }
        return allocateSlow(byteCount: byteCount, alignment: alignment)
    }

    @usableFromInline
    package mutating func allocateSlow(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
        let size = max(byteCount + Self.header + alignment, nextChunkSize)
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        chunk.storeBytes(of: chunks, as: UnsafeMutableRawPointer?.self)
        chunks = chunk
        if byteCount > nextChunkSize / 4 {
            // A large block keeps the current chunk for the small allocations that follow.
            let start = chunk + Self.header
            let misalignment = Int(bitPattern: start) & (alignment - 1)
            return misalignment == 0 ? start : start + (alignment - misalignment)
        }
        cursor = chunk + Self.header
        remaining = size - Self.header
        nextChunkSize = min(nextChunkSize * 2, 1 << 20)
        used &-= byteCount  // allocate counts it again
        return allocate(byteCount: byteCount, alignment: alignment)
    }

    /// An upper bound on the packed size of a message built entirely in this arena.
    ///
    /// Every value that gets encoded occupies arena memory: a scalar at least 4 bytes of its
    /// struct (encoded: at most a 5-byte tag and a 10-byte varint), a string or bytes its
    /// pointer plus its contents (encoded: tag, length, contents), a nested message its struct
    /// (encoded: tag, length, fields). So four times the bytes used always suffices.
    @inlinable
    package var encodedSizeBound: Int { used &* 4 &+ 16 }

    /// A NUL-terminated copy of the string's UTF-8.
    @inlinable
    package mutating func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
        if let copy = string.utf8.withContiguousStorageIfAvailable({ copyCString($0) }) { return copy }
        var string = string
        return string.withUTF8 { copyCString($0) }
    }

    /// A NUL-terminated copy of UTF-8 bytes. protobuf-c packs strings up to their first NUL, so
    /// an embedded U+0000 would silently end the string there: it is written as U+FFFD (the
    /// replacement character) instead, and nothing after it is lost.
    @inlinable
    package mutating func copyCString(_ utf8: UnsafeBufferPointer<UInt8>) -> UnsafeMutablePointer<CChar> {
        if containsNUL(utf8) { return copyReplacingNUL(utf8) }
        let out = allocate(byteCount: utf8.count + 1, alignment: 1)
        if let base = utf8.baseAddress { out.copyMemory(from: base, byteCount: utf8.count) }
        out.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
        return out.bindMemory(to: CChar.self, capacity: utf8.count + 1)
    }

    @usableFromInline
    mutating func copyReplacingNUL(_ utf8: UnsafeBufferPointer<UInt8>) -> UnsafeMutablePointer<CChar> {
        var replaced: [UInt8] = []
        replaced.reserveCapacity(utf8.count + 16)
        for byte in utf8 {
            if byte == 0 {
                replaced += [0xEF, 0xBF, 0xBD]
            } else {
                replaced.append(byte)
            }
        }
        return replaced.withUnsafeBufferPointer { copyCString($0) }
    }

    /// A copy of the bytes.
    package mutating func bytes(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutablePointer<UInt8> {
        let out = allocate(byteCount: max(bytes.count, 1), alignment: 1)
        if let base = bytes.baseAddress { out.copyMemory(from: base, byteCount: bytes.count) }
        return out.bindMemory(to: UInt8.self, capacity: bytes.count)
    }
}
