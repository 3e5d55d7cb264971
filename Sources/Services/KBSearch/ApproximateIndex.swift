import CHNSW

/// hnswlib's HNSW graph over inner product, labelled by chunk id; owns the C index.
///
/// Not thread-safe: one owner at a time calls it (the task building it, then the tenant's
/// `TenantVectorIndex` actor it is handed to), hence `@unchecked Sendable`.
final class ApproximateIndex: @unchecked Sendable {
    private let pointer: OpaquePointer
    /// The vectors' length.
    let dimensions: Int

    /// An empty index; nil when hnswlib could not allocate it.
    init?(dimensions: Int, capacity: Int, m: Int, efConstruction: Int) {
        guard let pointer = chnsw_create(dimensions, capacity, m, efConstruction, 100) else { return nil }
        self.pointer = pointer
        self.dimensions = dimensions
    }

    deinit { chnsw_free(pointer) }

    /// Adds the vector of chunk `id`; false when hnswlib refused (out of memory).
    @discardableResult
    func add(_ vector: [Float], id: Int64) -> Bool {
        guard vector.count == dimensions else { return false }
        return vector.withUnsafeBufferPointer { chnsw_add(pointer, $0.baseAddress, UInt64(id)) == 0 }
    }

    /// Hides chunk `id` from searches.
    func remove(id: Int64) {
        _ = chnsw_mark_deleted(pointer, UInt64(id))
    }

    /// The approximately nearest `k` chunk ids to `query`, best first, exploring `ef` candidates.
    func search(_ query: [Float], k: Int, ef: Int) -> [Int64] {
        guard query.count == dimensions, k > 0 else { return [] }
        var labels = [UInt64](repeating: 0, count: k)
        var distances = [Float](repeating: 0, count: k)
        let found = query.withUnsafeBufferPointer { query in
            labels.withUnsafeMutableBufferPointer { labels in
                distances.withUnsafeMutableBufferPointer { distances in
                    chnsw_search(pointer, query.baseAddress, k, ef, labels.baseAddress, distances.baseAddress)
                }
            }
        }
        return labels.prefix(found).map { Int64($0) }
    }
}

/// The exact nearest-vector scan, run by the C++ target with hnswlib's SIMD inner product.
enum ExactScan {
    /// The best `k` rows of `matrix` (`count` rows of `dimensions` floats) by dot product with
    /// `query`, best first, skipping rows whose `allowed` entry is 0.
    static func top(
        _ k: Int, of query: [Float], in matrix: [Float], count: Int, dimensions: Int, allowed: [UInt8]?
    ) -> [(row: Int, score: Float)] {
        guard k > 0, count > 0, query.count == dimensions, matrix.count >= count * dimensions else { return [] }
        var rows = [UInt64](repeating: 0, count: k)
        var scores = [Float](repeating: 0, count: k)
        let found = query.withUnsafeBufferPointer { query in
            matrix.withUnsafeBufferPointer { matrix in
                rows.withUnsafeMutableBufferPointer { rows in
                    scores.withUnsafeMutableBufferPointer { scores in
                        if let allowed {
                            allowed.withUnsafeBufferPointer { allowed in
                                chnsw_exact_top_k(
                                    query.baseAddress, matrix.baseAddress, count, dimensions, allowed.baseAddress, k,
                                    rows.baseAddress, scores.baseAddress)
                            }
                        } else {
                            chnsw_exact_top_k(
                                query.baseAddress, matrix.baseAddress, count, dimensions, nil, k, rows.baseAddress,
                                scores.baseAddress)
                        }
                    }
                }
            }
        }
        return (0..<found).map { (Int(rows[$0]), scores[$0]) }
    }
}
