import CHNSW

/// BM25 over the lexemes of PostgreSQL's `tsvector`s, in memory (the C++ target): the lexical
/// search of knowledge bases too large for full-text ranking in PostgreSQL to stay fast.
///
/// Not thread-safe: its owner (a tenant's `TenantVectorIndex` actor) serialises every call.
final class LexicalIndex {
    private let pointer: OpaquePointer
    /// Term ids of the lexemes seen so far.
    private var termIDs: [String: UInt32] = [:]

    /// An empty index; nil when it could not be allocated.
    init?() {
        guard let pointer = chnsw_lexicon_create() else { return nil }
        self.pointer = pointer
    }

    deinit { chnsw_lexicon_free(pointer) }

    /// Adds chunk `id` with its terms.
    func add(id: Int64, terms: IndexedTerms) {
        var ids: [UInt32] = []
        var frequencies: [Float] = []
        ids.reserveCapacity(terms.lexemes.count)
        frequencies.reserveCapacity(terms.lexemes.count)
        for (lexeme, frequency) in terms.lexemes {
            let next = UInt32(termIDs.count)
            let id = termIDs[lexeme, default: next]
            if id == next { termIDs[lexeme] = id }
            ids.append(id)
            frequencies.append(frequency)
        }
        _ = chnsw_lexicon_add(pointer, UInt64(id), ids, frequencies, ids.count, terms.length)
    }

    /// Removes chunk `id`.
    func remove(id: Int64) {
        chnsw_lexicon_remove(pointer, UInt64(id))
    }

    /// The best `k` chunks for the query's lexemes (as PostgreSQL's parser produced them).
    func search(lexemes: [String], k: Int) -> [(id: Int64, score: Float)] {
        let terms = lexemes.compactMap { termIDs[$0] }
        guard !terms.isEmpty, k > 0 else { return [] }
        var labels = [UInt64](repeating: 0, count: k)
        var scores = [Float](repeating: 0, count: k)
        let found = labels.withUnsafeMutableBufferPointer { labels in
            scores.withUnsafeMutableBufferPointer { scores in
                chnsw_lexicon_search(pointer, terms, terms.count, k, labels.baseAddress, scores.baseAddress)
            }
        }
        return (0..<found).map { (Int64(labels[$0]), scores[$0]) }
    }
}

/// A chunk's lexemes with their frequencies (title and heading occurrences weigh more), read from
/// a `tsvector`'s text form, and its length in terms.
struct IndexedTerms: Sendable {
    var lexemes: [(String, Float)]
    var length: Float

    /// Weight of an occurrence by its `tsvector` label: A (title), B (headings), else body.
    static func weight(_ label: Character?) -> Float {
        switch label {
        case "A": 3
        case "B": 2
        case "C": 1.5
        default: 1
        }
    }

    /// Parses `'lexeme':1A,5 'other':3B` (quotes doubled inside a lexeme, backslash escapes).
    init(tsvector text: String) {
        var lexemes: [(String, Float)] = []
        var length: Float = 0
        var characters = text.makeIterator()
        var current: Character? = characters.next()
        while let character = current {
            guard character == "'" else {
                current = characters.next()
                continue
            }
            var lexeme = ""
            current = characters.next()
            while let inner = current {
                if inner == "\\" {
                    current = characters.next()
                    if let escaped = current { lexeme.append(escaped) }
                    current = characters.next()
                } else if inner == "'" {
                    current = characters.next()
                    if current == "'" {
                        lexeme.append("'")
                        current = characters.next()
                    } else {
                        break
                    }
                } else {
                    lexeme.append(inner)
                    current = characters.next()
                }
            }
            var frequency: Float = 0
            var positions = 0
            if current == ":" {
                current = characters.next()
                while let position = current, position.isNumber || position == "," || position.isLetter {
                    if position == "," {
                        current = characters.next()
                        continue
                    }
                    while let digit = current, digit.isNumber { current = characters.next() }
                    var label: Character?
                    if let letter = current, letter.isLetter {
                        label = letter
                        current = characters.next()
                    }
                    frequency += Self.weight(label)
                    positions += 1
                }
            }
            if positions == 0 {
                frequency = 1
                positions = 1
            }
            length += Float(positions)
            lexemes.append((lexeme, frequency))
        }
        self.lexemes = lexemes
        self.length = length
    }
}
