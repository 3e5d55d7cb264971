import KBSearch

/// Deterministic hashed embeddings like the LLM gateway's built-in provider (word unigrams and
/// bigrams plus character 3-grams, signed feature hashing into 384 dimensions, L2-normalised),
/// computed in the service's process: the benchmark measures the KB, not an embedding round trip.
struct HashedEmbedder: Embedder {
    static let dimensions = 384
    static let model = "builtin-hashed-384"

    func embed(_ texts: [String]) async throws -> EmbeddingBatch {
        EmbeddingBatch(vectors: texts.map(Self.embed), model: Self.model, dimensions: Self.dimensions)
    }

    static func embed(_ text: String) -> [Float] {
        var vector = [Float](repeating: 0, count: dimensions)
        let words = text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
        func add(_ feature: String, weight: Float) {
            let hash = fnv1a(feature)
            let index = Int(hash % UInt64(dimensions))
            let sign: Float = (hash >> 63) == 0 ? 1 : -1
            vector[index] += sign * weight
        }
        for (position, word) in words.enumerated() {
            add("w:" + word, weight: 1)
            if position > 0 { add("b:" + words[position - 1] + " " + word, weight: 0.5) }
            let padded = Array("^" + word + "$")
            if padded.count >= 3 {
                for start in 0...(padded.count - 3) { add("c:" + String(padded[start..<start + 3]), weight: 0.25) }
            }
        }
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
