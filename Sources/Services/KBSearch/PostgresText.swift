/// Values in PostgreSQL's text input forms, for parameters the runtime sends as text.
enum PostgresText {
    /// A `text[]` literal: `{"a","b"}` with quotes and backslashes escaped.
    static func array(_ values: [String]) -> String {
        let elements = values.map { value -> String in
            var escaped = "\""
            for character in value {
                if character == "\"" || character == "\\" { escaped.append("\\") }
                escaped.append(character)
            }
            return escaped + "\""
        }
        return "{" + elements.joined(separator: ",") + "}"
    }

    /// The elements of a `text[]` in PostgreSQL's output form.
    static func parseArray(_ text: String) -> [String] {
        var values: [String] = []
        var characters = Array(text)
        guard characters.first == "{", characters.last == "}" else { return [] }
        characters = Array(characters.dropFirst().dropLast())
        var index = 0
        while index < characters.count {
            var value = ""
            if characters[index] == "\"" {
                index += 1
                while index < characters.count, characters[index] != "\"" {
                    if characters[index] == "\\", index + 1 < characters.count { index += 1 }
                    value.append(characters[index])
                    index += 1
                }
                index += 1
            } else {
                while index < characters.count, characters[index] != "," {
                    value.append(characters[index])
                    index += 1
                }
            }
            values.append(value)
            index += 1
        }
        return values
    }

    /// A `to_tsquery` expression matching any of the query's words (OR), so that a question
    /// still finds passages holding only some of its words; words are letters and digits only,
    /// so the expression is always valid, and `to_tsquery` stems them and drops stop words.
    static func anyWordQuery(_ query: String) -> String {
        var words: [String] = []
        var current = ""
        for character in query {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        var seen = Set<String>()
        let unique = words.map { $0.lowercased() }.filter { seen.insert($0).inserted }.prefix(64)
        return unique.joined(separator: " | ")
    }
}
