/// A path template of a google.api.http rule, parsed by the grammar of google/api/http.proto:
///
///     Template = "/" Segments [ Verb ] ;
///     Segments = Segment { "/" Segment } ;
///     Segment  = "*" | "**" | LITERAL | Variable ;
///     Variable = "{" FieldPath [ "=" Segments ] "}" ;
///     FieldPath = IDENT { "." IDENT } ;
///     Verb     = ":" LITERAL ;
///
/// with its rules: `**` only as the last segment, variables not nested and each field bound once.
/// Literals are RFC 3986 unreserved characters or %-escapes. A wildcard outside a variable binds
/// no field and has no OpenAPI form, so it is refused.
struct PathTemplate: Equatable {
    enum Segment: Equatable {
        case literal(String)
        /// `*`: one segment.
        case wildcard
        /// `**`: the rest of the path, zero or more segments.
        case deepWildcard
        /// `{field.path=pattern}`; the pattern is `*` when the template gives none.
        case variable(fieldPath: [String], pattern: [Segment])
    }

    var segments: [Segment]
    /// The custom verb after `:` in the last segment, e.g. `cancel`.
    var verb: String?

    /// Every bound field path, in order.
    var variables: [[String]] {
        segments.compactMap {
            if case .variable(let fieldPath, _) = $0 { fieldPath } else { nil }
        }
    }

    /// The path as OpenAPI writes it: `{field.path}` for each variable, whatever its pattern.
    var openAPIPath: String {
        "/"
            + segments.map { segment in
                switch segment {
                case .variable(let fieldPath, _): "{" + fieldPath.joined(separator: ".") + "}"
                default: Self.text(segment)
                }
            }.joined(separator: "/") + (verb.map { ":" + $0 } ?? "")
    }

    /// The shape of the paths the template matches, variables replaced by their patterns: two
    /// templates with the same shape and HTTP method are the same route.
    var shape: String {
        "/" + segments.map { Self.patternText($0) }.joined(separator: "/") + (verb.map { ":" + $0 } ?? "")
    }

    private static func text(_ segment: Segment) -> String {
        switch segment {
        case .literal(let literal): literal
        case .wildcard: "*"
        case .deepWildcard: "**"
        case .variable(let fieldPath, let pattern):
            "{" + fieldPath.joined(separator: ".") + "=" + pattern.map(text).joined(separator: "/") + "}"
        }
    }

    private static func patternText(_ segment: Segment) -> String {
        if case .variable(_, let pattern) = segment { return pattern.map(text).joined(separator: "/") }
        return text(segment)
    }

    /// Parses a template; the error says what is wrong and where (a 1-based character offset).
    init(parsing template: String) throws {
        var parser = Parser(characters: Array(template))
        guard parser.peek() == "/" else {
            throw PluginError(description: "path '\(template)' must start with '/'")
        }
        parser.advance()
        do {
            segments = try parser.segments(inVariable: false)
            if parser.peek() == ":" {
                parser.advance()
                verb = try parser.literal()
            }
            if let extra = parser.peek() {
                throw parser.error("unexpected '\(extra)'")
            }
        } catch let error as Parser.Failure {
            throw PluginError(description: "path '\(template)': \(error.message) at character \(error.offset + 1)")
        } catch {
            throw PluginError(description: "path '\(template)': \(error)")
        }
        try validate(template)
    }

    private func validate(_ template: String) throws {
        func fail(_ message: String) -> PluginError { PluginError(description: "path '\(template)': \(message)") }
        var seen: Set<[String]> = []
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            switch segment {
            case .literal: break
            case .wildcard, .deepWildcard:
                throw fail("a wildcard outside a variable binds no field (write {field=\(Self.text(segment))})")
            case .variable(let fieldPath, let pattern):
                guard seen.insert(fieldPath).inserted else {
                    throw fail("field '\(fieldPath.joined(separator: "."))' is bound twice")
                }
                for (patternIndex, part) in pattern.enumerated() where part == .deepWildcard {
                    if !isLast || patternIndex != pattern.count - 1 { throw fail("'**' must be the last segment") }
                }
            }
        }
    }

    /// A recursive-descent parser over the template's characters.
    private struct Parser {
        struct Failure: Error {
            var message: String
            var offset: Int
        }

        let characters: [Character]
        var position = 0

        func peek(_ ahead: Int = 0) -> Character? {
            position + ahead < characters.count ? characters[position + ahead] : nil
        }

        mutating func advance() { position += 1 }

        func error(_ message: String) -> Failure { Failure(message: message, offset: position) }

        mutating func segments(inVariable: Bool) throws -> [Segment] {
            var result = [try segment(inVariable: inVariable)]
            while peek() == "/" {
                advance()
                result.append(try segment(inVariable: inVariable))
            }
            return result
        }

        mutating func segment(inVariable: Bool) throws -> Segment {
            switch peek() {
            case "*":
                advance()
                if peek() == "*" {
                    advance()
                    return .deepWildcard
                }
                return .wildcard
            case "{":
                if inVariable { throw error("variables cannot be nested") }
                return try variable()
            default:
                return .literal(try literal())
            }
        }

        mutating func variable() throws -> Segment {
            advance()  // {
            var fieldPath = [try identifier()]
            while peek() == "." {
                advance()
                fieldPath.append(try identifier())
            }
            var pattern: [Segment] = [.wildcard]
            if peek() == "=" {
                advance()
                pattern = try segments(inVariable: true)
            }
            guard peek() == "}" else {
                throw error(peek().map { "expected '}' but found '\($0)'" } ?? "expected '}'")
            }
            advance()
            return .variable(fieldPath: fieldPath, pattern: pattern)
        }

        mutating func identifier() throws -> String {
            var name = ""
            while let c = peek(), c.isASCII, c.isLetter || c == "_" || (c.isNumber && !name.isEmpty) {
                name.append(c)
                advance()
            }
            if name.isEmpty { throw error("expected a field name") }
            return name
        }

        mutating func literal() throws -> String {
            var text = ""
            while let c = peek() {
                if c == "%" {
                    guard let high = peek(1), let low = peek(2), high.isHexDigit, low.isHexDigit else {
                        throw error("'%' must start a %-escape of two hex digits")
                    }
                    text += String([c, high, low])
                    position += 3
                } else if c.isASCII, c.isLetter || c.isNumber || "-._~".contains(c) {
                    text.append(c)
                    advance()
                } else {
                    break
                }
            }
            if text.isEmpty {
                guard let next = peek(), next != "/" else { throw error("empty segment") }
                throw error("unexpected '\(next)'")
            }
            return text
        }
    }
}
