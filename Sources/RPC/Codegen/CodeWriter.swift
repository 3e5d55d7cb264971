/// Accumulates generated source with indentation.
struct CodeWriter {
    private(set) var text = ""
    private var indentation = ""

    /// Writes one line at the current indentation; an empty string writes a blank line.
    mutating func line(_ string: String = "") {
        text += string.isEmpty ? "\n" : indentation + string + "\n"
    }

    /// Writes `header {`, the body indented, then `}`.
    mutating func block(_ header: String, _ body: (inout CodeWriter) -> Void) {
        line(header + " {")
        indent(body)
        line("}")
    }

    /// Writes `switch subject {`, the cases at the switch's own indentation, then `}`.
    mutating func switchBlock(_ subject: String, _ body: (inout CodeWriter) -> Void) {
        line("switch \(subject) {")
        body(&self)
        line("}")
    }

    /// Writes the body one level deeper.
    mutating func indent(_ body: (inout CodeWriter) -> Void) {
        let saved = indentation
        indentation += "    "
        body(&self)
        indentation = saved
    }

    /// Writes a comment from the .proto as `///` doc lines.
    mutating func docComment(_ comment: String) {
        var lines = comment.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasPrefix(" ") ? String($0.dropFirst()) : String($0)
        }
        while lines.last?.trimmingWhitespace().isEmpty == true { lines.removeLast() }
        while lines.first?.trimmingWhitespace().isEmpty == true { lines.removeFirst() }
        for docLine in lines {
            let trimmed = String(docLine.reversed().drop(while: { $0 == " " }).reversed())
            line(trimmed.isEmpty ? "///" : "/// " + trimmed)
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
