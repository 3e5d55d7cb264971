/// Memory for one encode: the protobuf-c structs, strings and arrays built from Swift values.
///
/// Everything is freed at once when the arena goes away, so building a C message tree costs
/// a few large allocations instead of one per field.
package final class ProtoArena {
    private var chunks: [UnsafeMutableRawPointer] = []
    private var cursor: UnsafeMutableRawPointer?
    private var remaining = 0
    private var nextChunkSize = 8 * 1024

    package init() {}

    deinit {
        for chunk in chunks { chunk.deallocate() }
    }

    /// Uninitialised memory that lives as long as the arena.
    package func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
        if let cursor {
            let padding = (alignment - Int(bitPattern: cursor) % alignment) % alignment
            if padding + byteCount <= remaining {
                let start = cursor + padding
                self.cursor = start + byteCount
                remaining -= padding + byteCount
                return start
            }
        }
        return allocateSlow(byteCount: byteCount, alignment: alignment)
    }

    private func allocateSlow(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
        if byteCount > nextChunkSize / 2 {
            // A large block gets a chunk of its own, so the current chunk stays in use.
            let block = UnsafeMutableRawPointer.allocate(
                byteCount: max(byteCount, 1), alignment: max(alignment, 16))
            chunks.append(block)
            return block
        }
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: nextChunkSize, alignment: 16)
        chunks.append(chunk)
        cursor = chunk
        remaining = nextChunkSize
        nextChunkSize = min(nextChunkSize * 2, 1 << 20)
        return allocate(byteCount: byteCount, alignment: alignment)
    }

    /// Uninitialised storage for `count` values of `T`.
    @inlinable
    package func allocate<T>(_: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        allocate(byteCount: MemoryLayout<T>.stride * count, alignment: MemoryLayout<T>.alignment)
            .bindMemory(to: T.self, capacity: count)
    }

    /// A NUL-terminated copy of the string's UTF-8.
    package func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
        var string = string
        return string.withUTF8 { utf8 in
            let out = allocate(byteCount: utf8.count + 1, alignment: 1)
            if let base = utf8.baseAddress { out.copyMemory(from: base, byteCount: utf8.count) }
            out.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
            return out.bindMemory(to: CChar.self, capacity: utf8.count + 1)
        }
    }

    /// A copy of the bytes.
    package func bytes(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutablePointer<UInt8> {
        let out = allocate(byteCount: bytes.count, alignment: 1)
        if let base = bytes.baseAddress { out.copyMemory(from: base, byteCount: bytes.count) }
        return out.bindMemory(to: UInt8.self, capacity: bytes.count)
    }
}
