import CHNSW

/// hnswlib's HNSW graph over inner product, labelled by chunk id; owns the C index.
///
/// The graph holds each vector minus a fixed `center` (from `center(of:dimensions:)`, a fraction of
/// the mean of the vectors it was built from). A query's inner product with `x - center` differs
/// from its product with `x` by `query · center`, the same for every chunk, so the ranking is
/// unchanged; but text embeddings share a large common component (frequent words: the mean of a
/// Zipf corpus' chunks has norm ~0.85), which packs the unit vectors into a narrow cone where the
/// graph's links follow that component rather than what a short query asks for. At 20k chunks of
/// the benchmark's corpus (M 16, ef 128), recall@10 of three-word queries is 0.38 without a center,
/// 0.84 with 0.6 of the mean and 0.85 with all of it; queries near stored chunks (a stored vector
/// plus noise) get 0.91, 0.92 and 0.77: 0.6 serves both.
///
/// Not thread-safe: one owner at a time calls it (the task building it, then the tenant's
/// `TenantVectorIndex` actor it is handed to), hence `@unchecked Sendable`.
final class ApproximateIndex: @unchecked Sendable {
    private let pointer: OpaquePointer
    /// The vectors' length.
    let dimensions: Int
    /// Subtracted from every vector added; nil for none.
    private let center: [Float]?

    /// An empty index; nil when hnswlib could not allocate it. `center` (of `dimensions` floats) is
    /// subtracted from every vector added.
    init?(dimensions: Int, capacity: Int, m: Int, efConstruction: Int, center: [Float]? = nil) {
        guard center == nil || center?.count == dimensions,
            let pointer = chnsw_create(dimensions, capacity, m, efConstruction, 100)
        else { return nil }
        self.pointer = pointer
        self.dimensions = dimensions
        self.center = center
    }

    /// The share of the mean subtracted (see the type's comment).
    static let centerShare = 0.6

    /// The center for a graph of `matrix`'s rows of `dimensions` floats: `centerShare` of their
    /// mean; nil when it has none.
    static func center(of matrix: [Float], dimensions: Int) -> [Float]? {
        guard dimensions > 0, matrix.count >= dimensions else { return nil }
        let rows = matrix.count / dimensions
        var sum = [Double](repeating: 0, count: dimensions)
        matrix.withUnsafeBufferPointer { matrix in
            for row in 0..<rows {
                for offset in 0..<dimensions { sum[offset] += Double(matrix[row * dimensions + offset]) }
            }
        }
        return sum.map { Float($0 * centerShare / Double(rows)) }
    }

    deinit { chnsw_free(pointer) }

    /// Adds the vector of chunk `id`; false when hnswlib refused (out of memory).
    @discardableResult
    func add(_ vector: [Float], id: Int64) -> Bool {
        guard vector.count == dimensions else { return false }
        var vector = vector
        if let center {
            for offset in 0..<dimensions { vector[offset] -= center[offset] }
        }
        return vector.withUnsafeBufferPointer { chnsw_add(pointer, $0.baseAddress, UInt64(id)) == 0 }
    }

    /// Hides chunk `id` from searches.
    func remove(id: Int64) {
        _ = chnsw_mark_deleted(pointer, UInt64(id))
    }

    /// The approximately nearest `k` chunk ids to `query`, best first, exploring `ef` candidates.
    /// The query is not centered: see the type's comment.
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
