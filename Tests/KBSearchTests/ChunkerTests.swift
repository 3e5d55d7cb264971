import Testing

@testable import KBSearch

@Suite("KB chunker")
struct ChunkerTests {
    @Test func markdownChunksFollowHeadingsAndCarryTheirPath() {
        let text = """
            # Accounts

            Intro to accounts.

            ## Resetting your password

            Open settings. Choose reset.

            ```
            # not a heading inside a fence
            ```

            ## Deleting an account

            Contact support.

            # Billing

            Invoices are monthly.
            """
        let chunks = Chunker(targetSize: 500, overlap: 50).chunks(of: text, contentType: "text/markdown")
        #expect(
            chunks.map(\.headingPath) == [
                ["Accounts"], ["Accounts", "Resetting your password"], ["Accounts", "Deleting an account"], ["Billing"],
            ])
        #expect(chunks.map(\.index) == [0, 1, 2, 3])
        #expect(chunks[1].text.contains("Open settings. Choose reset."))
        #expect(chunks[1].text.contains("# not a heading inside a fence"))
        #expect(chunks[3].text == "Invoices are monthly.")
    }

    @Test func plainTextSplitsByParagraphsWithinTheSizeAndOverlaps() {
        let paragraphs = (1...12).map { number in
            (1...12).map { "word\(number)x\($0)" }.joined(separator: " ") + "."
        }
        let text = paragraphs.joined(separator: "\n\n")
        let chunker = Chunker(targetSize: 300, overlap: 40)
        let chunks = chunker.chunks(of: text, contentType: "text/plain")
        #expect(chunks.count > 3)
        #expect(chunks.allSatisfy { $0.text.count <= 300 })
        #expect(chunks.allSatisfy { $0.headingPath.isEmpty })
        // Every paragraph survives whole in some chunk, and consecutive chunks share words.
        for paragraph in paragraphs { #expect(chunks.contains { $0.text.contains(paragraph) }) }
        for (previous, next) in zip(chunks, chunks.dropFirst()) {
            let lastWord = previous.text.split(separator: " ").last.map(String.init) ?? ""
            #expect(next.text.contains(lastWord))
        }
    }

    @Test func aLongParagraphIsCutAtSentencesThenWords() {
        let sentence = (1...30).map { "s\($0)" }.joined(separator: " ") + "."
        let paragraph = Array(repeating: sentence, count: 10).joined(separator: " ")
        let unbroken = String(repeating: "x", count: 700)
        let chunks = Chunker(targetSize: 200, overlap: 0).chunks(of: paragraph + "\n\n" + unbroken, contentType: "")
        #expect(chunks.allSatisfy { $0.text.count <= 200 })
        #expect(chunks.filter { $0.text.hasPrefix("s1 ") }.count == 10)
        #expect(chunks.map(\.text).joined().filter { $0 == "x" }.count == 700)
    }

    @Test func htmlHeadingsBecomeSectionsAndTagsAreDropped() {
        let html = """
            <html><head><style>h1 { color: red }</style></head><body>
            <h1>Guide</h1><p>Hello &amp; welcome.</p>
            <h2>Setup</h2><p>Run <b>install</b>.</p><script>var x = "<h1>no</h1>";</script>
            </body></html>
            """
        let chunks = Chunker().chunks(of: html, contentType: "text/html; charset=utf-8")
        #expect(chunks.map(\.headingPath) == [["Guide"], ["Guide", "Setup"]])
        #expect(chunks.map(\.text) == ["Hello & welcome.", "Run install."])
    }

    @Test func windowsLineEndingsSeparateParagraphsAndHeadings() {
        let text = "# Title\r\n\r\nFirst paragraph.\r\n\r\n## Part\r\nSecond paragraph.\r\n"
        let chunks = Chunker(targetSize: 200, overlap: 0).chunks(of: text, contentType: "text/markdown")
        #expect(chunks.map(\.headingPath) == [["Title"], ["Title", "Part"]])
        #expect(chunks.map(\.text) == ["First paragraph.", "Second paragraph."])
        let first = "The first paragraph, thirty-eight long."
        let second = "And the second one, also quite long."
        let plain = Chunker(targetSize: 50, overlap: 0).chunks(of: first + "\r\n\r\n" + second, contentType: "")
        #expect(plain.map(\.text) == [first, second])
    }

    @Test func emptyOrBlankTextHasNoChunks() {
        #expect(Chunker().chunks(of: "", contentType: "text/plain").isEmpty)
        #expect(Chunker().chunks(of: " \n\n \t\n", contentType: "text/markdown").isEmpty)
        #expect(Chunker().chunks(of: "# Only a heading\n", contentType: "text/markdown").isEmpty)
    }

    @Test func reciprocalRankFusionRewardsAgreement() {
        let fused = KnowledgeBaseHandler.fuse([[1, 2, 3], [3, 4, 1]], k: 3)
        #expect(fused.map(\.id) == [1, 3, 2])
        #expect(abs(fused[0].score - (1.0 / 61 + 1.0 / 63)) < 1e-12)
    }

    @Test func anyWordQueryIsSafeForToTsquery() {
        #expect(PostgresText.anyWordQuery("How do I reset my password?") == "how | do | i | reset | my | password")
        #expect(PostgresText.anyWordQuery("a:* & !b | 'c' (d)") == "a | b | c | d")
        #expect(PostgresText.anyWordQuery("?!") == "")
    }

    @Test func postgresArraysRoundTrip() {
        let values = ["plain", "with \"quote\"", "back\\slash", "comma, brace}", ""]
        #expect(PostgresText.parseArray(PostgresText.array(values)) == values)
        #expect(PostgresText.parseArray("{}") == [])
        #expect(PostgresText.parseArray("{a,b}") == ["a", "b"])
    }
}

@Suite("KB lexical index")
struct LexicalIndexTests {
    @Test func tsvectorTextIsParsedWithWeightsAndEscapes() {
        let terms = IndexedTerms(tsvector: "'account':1A,5 'it''s':2B 'back\\\\slash':3 'plain'")
        #expect(terms.lexemes.map(\.0) == ["account", "it's", "back\\slash", "plain"])
        #expect(terms.lexemes.map(\.1) == [4, 2, 1, 1])
        #expect(terms.length == 5)
        #expect(IndexedTerms(tsvector: "").lexemes.isEmpty)
    }

    @Test func bm25RanksRareAndRepeatedTermsHigherAndForgetsRemovedChunks() throws {
        let index = try #require(LexicalIndex())
        index.add(id: 1, terms: IndexedTerms(tsvector: "'common':1 'rare':2"))
        index.add(id: 2, terms: IndexedTerms(tsvector: "'common':1,2,3"))
        index.add(id: 3, terms: IndexedTerms(tsvector: "'common':1 'other':2"))
        index.add(id: 4, terms: IndexedTerms(tsvector: "'other':1"))
        #expect(index.search(lexemes: ["rare", "common"], k: 10).map(\.id).first == 1)
        #expect(index.search(lexemes: ["common"], k: 10).map(\.id).first == 2)
        #expect(index.search(lexemes: ["common"], k: 2).count == 2)
        #expect(index.search(lexemes: ["unknown"], k: 10).isEmpty)
        index.remove(id: 1)
        #expect(index.search(lexemes: ["rare"], k: 10).isEmpty)
        #expect(Set(index.search(lexemes: ["common"], k: 10).map(\.id)) == [2, 3])
        // Re-adding replaces.
        index.add(id: 2, terms: IndexedTerms(tsvector: "'fresh':1"))
        #expect(index.search(lexemes: ["common"], k: 10).map(\.id) == [3])
        #expect(index.search(lexemes: ["fresh"], k: 10).map(\.id) == [2])
    }
}
