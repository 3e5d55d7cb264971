import Testing

@testable import KBSearch

/// recall@10 of the HNSW graph on benchmark-like text (Zipf word bags, hashed embeddings), built
/// and searched through the same types the service uses.
@Suite("KB approximate index recall on text")
struct ApproximateIndexRecallTests {
    /// Paragraphs of 40 words and three-word queries of middling frequency, as in Benchmarks/kb-run.
    static func corpus(chunks: Int, queries: Int) -> (texts: [String], queries: [String]) {
        var generator = SeededGenerator(state: 1)
        let syllables = ["ka", "lo", "mi", "ter", "van", "dor", "sil", "pha", "ru", "nex", "bo", "quel", "st", "ar"]
        var words = Set<String>()
        while words.count < 5000 {
            let length = Int.random(in: 2...4, using: &generator)
            words.insert(
                (0..<length).map { _ in syllables[Int.random(in: 0..<syllables.count, using: &generator)] }.joined())
        }
        let vocabulary = words.sorted()
        var total = 0.0
        let cumulative = (1...vocabulary.count).map { rank in
            total += 1 / Double(rank)
            return total
        }
        func word() -> String {
            let target = Double.random(in: 0..<total, using: &generator)
            var low = 0
            var high = cumulative.count - 1
            while low < high {
                let middle = (low + high) / 2
                if cumulative[middle] < target { low = middle + 1 } else { high = middle }
            }
            return vocabulary[low]
        }
        let texts = (0..<chunks).map { _ in (0..<40).map { _ in word() }.joined(separator: " ") + "." }
        let queries = (0..<queries).map { _ in
            (0..<3).map { _ in vocabulary[Int.random(in: 20..<2000, using: &generator)] }.joined(separator: " ")
        }
        return (texts, queries)
    }

    /// recall@10 of `index` against the exact scan for `queries`.
    static func recall(
        _ index: ApproximateIndex, _ queries: [[Float]], matrix: [Float], count: Int, ef: Int
    ) -> Double {
        var found = 0
        var wanted = 0
        for query in queries {
            let exact = Set(
                ExactScan.top(10, of: query, in: matrix, count: count, dimensions: 384, allowed: nil)
                    .map { Int64($0.row) })
            found += index.search(query, k: 10, ef: ef).filter { exact.contains($0) }.count
            wanted += exact.count
        }
        return Double(found) / Double(max(1, wanted))
    }

    /// A graph over `vectors` as the service builds it (centered on a share of their mean), or uncentered.
    static func build(_ vectors: [[Float]], centered: Bool) throws -> ApproximateIndex {
        let settings = KBSearchSettings()
        let center = centered ? ApproximateIndex.center(of: vectors.flatMap { $0 }, dimensions: 384) : nil
        let index = try #require(
            ApproximateIndex(
                dimensions: 384, capacity: vectors.count, m: settings.annM, efConstruction: settings.annEfConstruction,
                center: center))
        for (id, vector) in vectors.enumerated() { #expect(index.add(vector, id: Int64(id))) }
        return index
    }

    @Test func textQueriesFindTheExactTopTen() throws {
        let (texts, queryTexts) = Self.corpus(chunks: 8000, queries: 100)
        let vectors = texts.map(HashedEmbedding.embed)
        let matrix = vectors.flatMap { $0 }
        let ef = KBSearchSettings().annEfSearch
        let queries = queryTexts.map(HashedEmbedding.embed)
        let centered = try Self.build(vectors, centered: true)
        // Stored vectors as queries: each is its own best match, whatever the data.
        let own = vectors.indices.filter { $0 % 40 == 0 }
        let selfFound = own.filter { centered.search(vectors[$0], k: 10, ef: ef).first == Int64($0) }.count
        let recall = Self.recall(centered, queries, matrix: matrix, count: vectors.count, ef: ef)
        let recallAt512 = Self.recall(centered, queries, matrix: matrix, count: vectors.count, ef: 512)
        // Queries near stored chunks (as the service measures itself): no worse than without a center.
        var generator = SeededGenerator(state: 7)
        let near = vectors.indices.filter { $0 % 80 == 3 }.map { position in
            VectorMath.normalized(vectors[position].map { $0 + Float.random(in: -0.05...0.05, using: &generator) })
        }
        let nearRecall = Self.recall(centered, near, matrix: matrix, count: vectors.count, ef: ef)
        let uncentered = try Self.build(vectors, centered: false)
        let nearRaw = Self.recall(uncentered, near, matrix: matrix, count: vectors.count, ef: ef)
        // The same graph over the raw vectors: their common component (frequent words) makes it miss.
        let raw = Self.recall(uncentered, queries, matrix: matrix, count: vectors.count, ef: ef)
        print(
            "KB approximate index on text, \(vectors.count) chunks, default M: recall@10 ef \(ef) \(recall), ef 512 "
                + "\(recallAt512) (uncentered: ef \(ef) \(raw)); "
                + "stored vectors finding themselves \(selfFound)/\(own.count); "
                + "stored vectors plus noise \(nearRecall) (uncentered \(nearRaw))"
        )
        #expect(Double(selfFound) >= Double(own.count) * 0.98)
        #expect(recall >= 0.88)
        #expect(recallAt512 >= 0.97)
        #expect(recall > raw)
        #expect(nearRecall >= nearRaw - 0.03)
    }
}
