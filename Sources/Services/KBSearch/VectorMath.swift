/// Vector arithmetic for the exact scan, on SIMD registers.
public enum VectorMath {
    /// `vector` scaled to unit length (unchanged when it is all zeros).
    public static func normalized(_ vector: [Float]) -> [Float] {
        let norm = dot(vector, vector).squareRoot()
        guard norm > 0 else { return vector }
        return vector.map { $0 / norm }
    }

    /// The dot product of two vectors of the same length.
    public static func dot(_ a: [Float], _ b: [Float]) -> Float {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in dot(a, b, count: min(a.count, b.count)) }
        }
    }

    /// The dot product of the first `count` floats of two buffers, 16 lanes at a time.
    static func dot(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, count: Int) -> Float {
        guard count > 0, let pa = a.baseAddress, let pb = b.baseAddress else { return 0 }
        var sum = SIMD16<Float>()
        var index = 0
        let rawA = UnsafeRawPointer(pa)
        let rawB = UnsafeRawPointer(pb)
        while index + 16 <= count {
            let va = rawA.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            let vb = rawB.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            sum = sum.addingProduct(va, vb)
            index += 16
        }
        var total = sum.sum()
        while index < count {
            total += pa[index] * pb[index]
            index += 1
        }
        return total
    }

    /// Little-endian float32 bytes of a vector, as stored in `kb.chunks.embedding`.
    static func bytes(of vector: [Float]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vector.count * 4)
        for value in vector {
            let bits = value.bitPattern.littleEndian
            bytes.append(UInt8(truncatingIfNeeded: bits))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 16))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 24))
        }
        return bytes
    }

    /// The vector stored as little-endian float32 bytes.
    static func vector(from bytes: [UInt8]) -> [Float] {
        var vector: [Float] = []
        vector.reserveCapacity(bytes.count / 4)
        var index = 0
        while index + 4 <= bytes.count {
            let bits =
                UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16
                | UInt32(bytes[index + 3]) << 24
            vector.append(Float(bitPattern: UInt32(littleEndian: bits)))
            index += 4
        }
        return vector
    }
}
