/// The contents of a `CONFIG_FILE`: `KEY=VALUE` lines, `#` comments, optional quotes.
///
/// The format is the common `.env` one so the same file works with compose's `env_file`:
/// an optional `export ` prefix, `'single'` quotes taken literally, `"double"` quotes with
/// `\"`, `\\` and `\n` escapes, and ` # comment` after an unquoted value.
struct ConfigFile: Sendable {
    /// The values by key; a key given twice keeps its last value.
    var values: [String: String] = [:]
    /// Lines that could not be read, by line number (from 1), with what is wrong.
    var errors: [(line: Int, reason: String)] = []

    /// Reads a file's text.
    init(parsing text: String) {
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(rawLine.trimmed(of: " \t\r"))
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst("export ".count).drop(while: { $0 == " " }) }
            guard let equals = line.firstIndex(of: "=") else {
                errors.append((index + 1, "expected KEY=VALUE"))
                continue
            }
            let key = String(line[..<equals].trimmed(of: " \t"))
            guard ConfigFile.isValidKey(key) else {
                errors.append((index + 1, "\"\(key)\" is not a valid key"))
                continue
            }
            switch ConfigFile.value(from: line[line.index(after: equals)...].drop(while: { $0 == " " || $0 == "\t" })) {
            case .success(let value): values[key] = value
            case .failure(let reason): errors.append((index + 1, reason.text))
            }
        }
    }

    /// Whether a key is a shell-style variable name.
    static func isValidKey(_ key: String) -> Bool {
        guard let first = key.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return key.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }

    private struct Reason: Error {
        var text: String
    }

    private static func value(from rest: Substring) -> Result<String, Reason> {
        guard let quote = rest.first, quote == "\"" || quote == "'" else {
            // An unquoted value ends at a comment that follows whitespace.
            var value = rest
            if let hash = rest.indices.first(where: { rest[$0] == "#" && $0 > rest.startIndex }),
                rest[rest.index(before: hash)] == " " || rest[rest.index(before: hash)] == "\t"
            {
                value = rest[..<hash]
            }
            return .success(value.trimmed(of: " \t"))
        }
        var result = ""
        var index = rest.index(after: rest.startIndex)
        while index < rest.endIndex {
            let character = rest[index]
            if character == quote {
                let after = rest[rest.index(after: index)...].trimmed(of: " \t")
                guard after.isEmpty || after.hasPrefix("#") else {
                    return .failure(Reason(text: "unexpected text after the closing quote"))
                }
                return .success(result)
            }
            if quote == "\"", character == "\\", rest.index(after: index) < rest.endIndex {
                index = rest.index(after: index)
                switch rest[index] {
                case "n": result.append("\n")
                case "t": result.append("\t")
                default: result.append(rest[index])
                }
            } else {
                result.append(character)
            }
            index = rest.index(after: index)
        }
        return .failure(Reason(text: "unterminated quote"))
    }
}
