/// One piece of a document as it is indexed: its text and the headings that enclose it.
public struct Chunk: Sendable, Equatable {
    /// 0-based position within the document.
    public var index: Int
    /// The chunk's text, as shown in search results.
    public var text: String
    /// Headings enclosing the chunk, outermost first.
    public var headingPath: [String]

    /// A chunk.
    public init(index: Int, text: String, headingPath: [String]) {
        self.index = index
        self.text = text
        self.headingPath = headingPath
    }
}

/// Splits a document into chunks that respect its headings and paragraphs.
///
/// A chunk never spans two sections, so its heading path is exact; paragraphs of one section are
/// packed together up to `targetSize` characters, and a paragraph longer than that is cut at
/// sentence, then word boundaries. Consecutive chunks of one section share up to `overlap`
/// characters, so a passage cut in two is still found whole in one of them.
public struct Chunker: Sendable {
    /// The largest chunk wanted, in characters.
    public var targetSize: Int
    /// Characters repeated from the end of a chunk at the start of the next one of its section.
    public var overlap: Int

    /// A chunker; `overlap` is kept below half of `targetSize`.
    public init(targetSize: Int = 1000, overlap: Int = 150) {
        self.targetSize = max(50, targetSize)
        self.overlap = max(0, min(overlap, self.targetSize / 2))
    }

    /// The chunks of `text`, whose MIME type is `contentType`: Markdown and HTML are split along
    /// their headings, anything else by paragraphs only.
    public func chunks(of text: String, contentType: String) -> [Chunk] {
        let type = contentType.lowercased()
        // "\r\n" is one Character in Swift, so it would never match a "\n" separator.
        let text = text.replacing("\r\n", with: "\n").replacing("\r", with: "\n")
        let sections: [Section]
        if type.hasPrefix("text/html") || type.hasPrefix("application/xhtml") {
            sections = Self.markdownSections(HTMLText.markdown(from: text))
        } else if type.hasPrefix("text/markdown") || type.hasPrefix("text/x-markdown") {
            sections = Self.markdownSections(text)
        } else {
            sections = [
                Section(
                    headingPath: [],
                    paragraphs: Self.paragraphs(of: text.split(separator: "\n", omittingEmptySubsequences: false)))
            ]
        }
        var chunks: [Chunk] = []
        for section in sections {
            for piece in pack(section.paragraphs) {
                chunks.append(Chunk(index: chunks.count, text: piece, headingPath: section.headingPath))
            }
        }
        return chunks
    }

    /// A run of paragraphs under one heading path.
    struct Section {
        var headingPath: [String]
        var paragraphs: [String]
    }

    /// Sections of a Markdown text: ATX headings (`#` to `######`) outside code fences open one.
    static func markdownSections(_ text: String) -> [Section] {
        var sections: [Section] = []
        var stack: [(level: Int, title: String)] = []
        var lines: [Substring] = []
        var inFence = false
        func flush() {
            let paragraphs = Self.paragraphs(of: lines)
            lines.removeAll()
            guard !paragraphs.isEmpty else { return }
            sections.append(Section(headingPath: stack.map(\.title), paragraphs: paragraphs))
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") { inFence.toggle() }
            if !inFence, let heading = heading(in: trimmed) {
                flush()
                while let last = stack.last, last.level >= heading.level { stack.removeLast() }
                stack.append(heading)
                continue
            }
            lines.append(line)
        }
        flush()
        return sections
    }

    /// The level and title of an ATX heading line, if it is one.
    static func heading(in line: Substring) -> (level: Int, title: String)? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes) else { return nil }
        let rest = line.dropFirst(hashes)
        guard let first = rest.first, first == " " || first == "\t" else { return nil }
        var title = rest.trimmingSpaces()
        while title.hasSuffix("#") { title.removeLast() }
        title = Substring(title).trimmingSpaces()
        return title.isEmpty ? nil : (hashes, title)
    }

    /// Paragraphs: runs of non-blank lines, whitespace collapsed.
    static func paragraphs(of lines: [Substring]) -> [String] {
        var paragraphs: [String] = []
        var current: [Substring] = []
        func flush() {
            let joined = current.map { $0.trimmingSpaces() }.filter { !$0.isEmpty }.joined(separator: " ")
            current.removeAll()
            if !joined.isEmpty { paragraphs.append(joined) }
        }
        for line in lines {
            if line.allSatisfy(\.isWhitespace) { flush() } else { current.append(line) }
        }
        flush()
        return paragraphs
    }

    /// Packs paragraphs into pieces of at most `targetSize` characters, with overlap.
    func pack(_ paragraphs: [String]) -> [String] {
        var units: [String] = []
        for paragraph in paragraphs {
            if paragraph.count <= targetSize { units.append(paragraph) } else { units += split(paragraph) }
        }
        var pieces: [String] = []
        var current = ""
        var currentHasNew = false
        for unit in units {
            if current.isEmpty {
                current = unit
                currentHasNew = true
            } else if current.count + 2 + unit.count <= targetSize {
                current += "\n\n" + unit
                currentHasNew = true
            } else {
                pieces.append(current)
                let carried = tail(of: current)
                current = carried.isEmpty || carried.count + 1 + unit.count > targetSize ? unit : carried + " " + unit
                currentHasNew = true
            }
        }
        if currentHasNew, !current.isEmpty { pieces.append(current) }
        return pieces
    }

    /// A long paragraph cut into pieces of at most `targetSize`, at sentence ends where possible.
    func split(_ paragraph: String) -> [String] {
        var sentences: [String] = []
        var sentence = ""
        var previous: Character = " "
        for character in paragraph {
            if character == " ", previous == "." || previous == "!" || previous == "?" {
                sentences.append(sentence)
                sentence = ""
            } else {
                sentence.append(character)
            }
            previous = character
        }
        if !sentence.isEmpty { sentences.append(sentence) }
        var pieces: [String] = []
        var current = ""
        for sentence in sentences.flatMap({ $0.count > targetSize ? splitWords($0) : [$0] }) {
            if current.isEmpty {
                current = sentence
            } else if current.count + 1 + sentence.count <= targetSize {
                current += " " + sentence
            } else {
                pieces.append(current)
                current = sentence
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    /// A sentence longer than `targetSize` cut between words (or inside a word with no spaces).
    func splitWords(_ sentence: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        for word in sentence.split(separator: " ") {
            var word = Substring(word)
            while word.count > targetSize {
                if !current.isEmpty {
                    pieces.append(current)
                    current = ""
                }
                pieces.append(String(word.prefix(targetSize)))
                word = word.dropFirst(targetSize)
            }
            if current.isEmpty {
                current = String(word)
            } else if current.count + 1 + word.count <= targetSize {
                current += " " + word
            } else {
                pieces.append(current)
                current = String(word)
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    /// The last `overlap` characters of a piece, starting at a word.
    func tail(of piece: String) -> String {
        guard overlap > 0 else { return "" }
        let suffix = piece.suffix(overlap)
        guard suffix.count < piece.count else { return "" }
        guard let space = suffix.firstIndex(where: \.isWhitespace) else { return "" }
        return String(suffix[suffix.index(after: space)...]).trimmingSpaces()
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace.
    func trimmingSpaces() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}
