import FlowEngine
import Foundation

/// The built-in provider's embeddings: deterministic signed feature hashing of word unigrams,
/// word bigrams and character 3-grams, with sublinear term frequency, L2-normalised. The exact
/// rule is in docs/LLM_GATEWAY.md; changing it changes every stored vector, so it is versioned
/// by its model id.
struct HashedEmbedder: Sendable {
    /// The vector length.
    var dimensions: Int

    /// Weights of the three feature groups.
    static let unigramWeight: Float = 1.0
    static let bigramWeight: Float = 1.0
    static let trigramWeight: Float = 0.5

    /// The vector of `text`; all zeros when it has no letters or digits.
    func embed(_ text: String) -> [Float] {
        let words = TextFeatures.words(text)
        var counts: [String: (count: Int, weight: Float)] = [:]
        func add(_ feature: String, weight: Float) {
            counts[feature, default: (0, weight)].count += 1
        }
        for word in words { add("w:" + word, weight: Self.unigramWeight) }
        for (first, second) in zip(words, words.dropFirst()) {
            add("b:" + first + " " + second, weight: Self.bigramWeight)
        }
        for word in words {
            let padded = Array("#" + word + "#")
            for start in 0...(padded.count - 3) {
                add("c:" + String(padded[start..<(start + 3)]), weight: Self.trigramWeight)
            }
        }
        var vector = [Float](repeating: 0, count: dimensions)
        for (feature, entry) in counts {
            let hash = Self.fnv1a(feature)
            let index = Int(hash % UInt64(dimensions))
            let sign: Float = hash >> 63 == 0 ? 1 : -1
            vector[index] += sign * entry.weight * (1 + Float(log(Double(entry.count))))
        }
        let norm = vector.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        if norm > 0 { vector = vector.map { $0 / norm } }
        return vector
    }

    /// 64-bit FNV-1a of the UTF-8 bytes: stable across processes and platforms.
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
