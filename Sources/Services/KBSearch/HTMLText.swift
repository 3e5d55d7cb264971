/// Turns HTML into the Markdown the chunker splits: `h1`–`h6` become headings, block elements
/// become paragraph breaks, other tags are dropped and the common entities decoded.
enum HTMLText {
    /// Block elements that end a paragraph.
    private static let blocks: Set<String> = [
        "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "blockquote", "pre", "hr",
        "header", "footer", "main", "nav", "dd", "dt",
    ]

    /// The Markdown form of `html`.
    static func markdown(from html: String) -> String {
        var output = ""
        var index = html.startIndex
        var skipping: String?
        while index < html.endIndex {
            let character = html[index]
            guard character == "<", let close = html[index...].firstIndex(of: ">") else {
                if skipping == nil { output.append(character) }
                index = html.index(after: index)
                continue
            }
            let inside = html[html.index(after: index)..<close]
            index = html.index(after: close)
            let isEnd = inside.hasPrefix("/")
            let name = inside.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }.lowercased()
            if let skipped = skipping {
                if isEnd, name == skipped { skipping = nil }
                continue
            }
            if !isEnd, name == "script" || name == "style" {
                skipping = name
            } else if name.count == 2, name.first == "h", let level = Int(String(name.last!)), (1...6).contains(level) {
                output += isEnd ? "\n\n" : "\n\n" + String(repeating: "#", count: level) + " "
            } else if blocks.contains(name) {
                output += "\n\n"
            }
        }
        return decodeEntities(output)
    }

    /// `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&#39;`, `&nbsp;` decoded.
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
            .replacing("&#39;", with: "'").replacing("&nbsp;", with: " ").replacing("&amp;", with: "&")
    }
}
