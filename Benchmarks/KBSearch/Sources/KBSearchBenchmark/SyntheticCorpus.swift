/// A fixed-seed generator, so every run indexes and queries the same text.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state ^ (state >> 29)
    }
}

/// Synthetic text as in the debug-build test (Tests/KBSearchTests/SearchBenchmarkTests.swift): words
/// of a 5,000-word vocabulary with a Zipf-like frequency, so common words match many chunks as in
/// real text, and queries of three words of middling frequency.
struct SyntheticCorpus {
    var generator = SeededGenerator(state: 42)
    let vocabulary: [String]
    let cumulative: [Double]

    init() {
        var generator = SeededGenerator(state: 1)
        let syllables = ["ka", "lo", "mi", "ter", "van", "dor", "sil", "pha", "ru", "nex", "bo", "quel", "st", "ar"]
        var words = Set<String>()
        while words.count < 5000 {
            let length = Int.random(in: 2...4, using: &generator)
            words.insert(
                (0..<length).map { _ in syllables[Int.random(in: 0..<syllables.count, using: &generator)] }.joined())
        }
        vocabulary = words.sorted()
        var total = 0.0
        cumulative = (1...vocabulary.count).map { rank in
            total += 1 / Double(rank)
            return total
        }
    }

    mutating func word() -> String {
        let target = Double.random(in: 0..<(cumulative.last ?? 1), using: &generator)
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < target { low = middle + 1 } else { high = middle }
        }
        return vocabulary[low]
    }

    mutating func paragraph(words count: Int) -> String {
        (0..<count).map { _ in word() }.joined(separator: " ") + "."
    }

    /// Three words of middling frequency.
    mutating func query() -> String {
        (0..<3).map { _ in vocabulary[Int.random(in: 20..<2000, using: &generator)] }.joined(separator: " ")
    }
}
