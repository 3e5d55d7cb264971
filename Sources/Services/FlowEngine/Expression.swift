import Foundation

/// A parsed router condition: comparisons, `and`/`or`/`not`, `contains`, `exists(path)` over the
/// state. Parsed by a hand-written tokenizer and recursive-descent parser; evaluation never runs code.
indirect enum Expression: Sendable {
    case literal(JSONValue)
    case path(ValuePath)
    case exists(ValuePath)
    case not(Expression)
    case and(Expression, Expression)
    case or(Expression, Expression)
    case compare(Expression, Comparison, Expression)

    /// The binary comparison operators.
    enum Comparison: String, Sendable {
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        case contains
    }

    /// A syntax error with the 0-based character offset where it was found.
    struct ParseError: Error, Equatable {
        let message: String
        let position: Int
    }

    /// The longest accepted expression, in characters.
    static let maxLength = 2000

    /// Parses `text`.
    static func parse(_ text: String) throws(ParseError) -> Expression {
        guard text.count <= maxLength else {
            throw ParseError(message: "expression longer than \(maxLength) characters", position: maxLength)
        }
        var parser = ExpressionParser(tokens: try ExpressionLexer.tokenize(text), end: text.count)
        let expression = try parser.parseOr()
        if let extra = parser.peek {
            throw ParseError(message: "unexpected '\(extra.text)'", position: extra.position)
        }
        return expression
    }

    /// Every path the expression reads.
    var paths: [ValuePath] {
        switch self {
        case .literal: return []
        case .path(let path), .exists(let path): return [path]
        case .not(let inner): return inner.paths
        case .and(let lhs, let rhs), .or(let lhs, let rhs), .compare(let lhs, _, let rhs): return lhs.paths + rhs.paths
        }
    }

    /// Whether the expression holds for `state` (its value's truthiness).
    func holds(in state: [String: JSONValue]) -> Bool {
        evaluate(state).isTruthy
    }

    /// The value of the expression; a missing path is null.
    func evaluate(_ state: [String: JSONValue]) -> JSONValue {
        switch self {
        case .literal(let value): return value
        case .path(let path): return path.resolve(in: state) ?? .null
        case .exists(let path):
            if let value = path.resolve(in: state), value != .null { return .bool(true) }
            return .bool(false)
        case .not(let inner): return .bool(!inner.holds(in: state))
        case .and(let lhs, let rhs): return .bool(lhs.holds(in: state) && rhs.holds(in: state))
        case .or(let lhs, let rhs): return .bool(lhs.holds(in: state) || rhs.holds(in: state))
        case .compare(let lhs, let op, let rhs):
            return .bool(Self.compare(lhs.evaluate(state), op, rhs.evaluate(state)))
        }
    }

    private static func compare(_ lhs: JSONValue, _ op: Comparison, _ rhs: JSONValue) -> Bool {
        switch op {
        case .equal: return lhs == rhs
        case .notEqual: return lhs != rhs
        case .contains:
            switch (lhs, rhs) {
            case (.string(let haystack), .string(let needle)):
                return haystack.range(of: needle, options: .caseInsensitive) != nil
            case (.array(let elements), _): return elements.contains(rhs)
            case (.object(let members), .string(let key)): return members[key] != nil
            default: return false
            }
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let order: Int
            switch (lhs, rhs) {
            case (.number(let a), .number(let b)): order = a < b ? -1 : (a > b ? 1 : 0)
            case (.string(let a), .string(let b)): order = a < b ? -1 : (a > b ? 1 : 0)
            default: return false  // ordering across types is never true
            }
            switch op {
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            default: return order >= 0
            }
        }
    }
}

/// One token of an expression.
struct ExpressionToken: Sendable {
    enum Kind: Sendable, Equatable {
        case number(Double)
        case string(String)
        case word(String)
        case symbol(String)
    }

    let kind: Kind
    let text: String
    let position: Int
}

/// Splits an expression into tokens.
enum ExpressionLexer {
    static func tokenize(_ text: String) throws(Expression.ParseError) -> [ExpressionToken] {
        let characters = Array(text)
        var tokens: [ExpressionToken] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let start = index
            if character.isWhitespace {
                index += 1
            } else if character.isNumber
                || (character == "-" && index + 1 < characters.count
                    && characters[index + 1].isNumber && !(tokens.last.map(isOperand) ?? false))
            {
                index += 1
                while index < characters.count, characters[index].isNumber || characters[index] == "." { index += 1 }
                let literal = String(characters[start..<index])
                guard let value = Double(literal) else {
                    throw .init(message: "bad number '\(literal)'", position: start)
                }
                tokens.append(.init(kind: .number(value), text: literal, position: start))
            } else if character == "\"" || character == "'" {
                index += 1
                var value = ""
                var closed = false
                while index < characters.count {
                    let next = characters[index]
                    index += 1
                    if next == character {
                        closed = true
                        break
                    }
                    if next == "\\", index < characters.count {
                        value.append(characters[index])
                        index += 1
                    } else {
                        value.append(next)
                    }
                }
                guard closed else { throw .init(message: "unterminated string", position: start) }
                tokens.append(.init(kind: .string(value), text: String(characters[start..<index]), position: start))
            } else if character.isLetter || character == "_" {
                while index < characters.count,
                    characters[index].isLetter || characters[index].isNumber || "_.-*".contains(characters[index])
                {
                    index += 1
                }
                let word = String(characters[start..<index])
                tokens.append(.init(kind: .word(word), text: word, position: start))
            } else if "()".contains(character) {
                index += 1
                tokens.append(.init(kind: .symbol(String(character)), text: String(character), position: start))
            } else if "=!<>".contains(character) {
                index += 1
                if index < characters.count, characters[index] == "=" { index += 1 }
                let symbol = String(characters[start..<index])
                guard ["==", "!=", "<", "<=", ">", ">="].contains(symbol) else {
                    throw .init(message: "unknown operator '\(symbol)'", position: start)
                }
                tokens.append(.init(kind: .symbol(symbol), text: symbol, position: start))
            } else {
                throw .init(message: "unexpected character '\(character)'", position: start)
            }
        }
        return tokens
    }

    /// Whether a token ends an operand (so a following '-' is not a sign).
    private static func isOperand(_ token: ExpressionToken) -> Bool {
        switch token.kind {
        case .number, .string: return true
        case .word(let word): return !["and", "or", "not", "contains"].contains(word)
        case .symbol(let symbol): return symbol == ")"
        }
    }
}

/// Recursive descent: or → and → not → comparison → primary.
struct ExpressionParser {
    let tokens: [ExpressionToken]
    let end: Int
    var index = 0

    var peek: ExpressionToken? { index < tokens.count ? tokens[index] : nil }

    init(tokens: [ExpressionToken], end: Int) {
        self.tokens = tokens
        self.end = end
    }

    private mutating func accept(word: String) -> Bool {
        if case .word(word) = peek?.kind {
            index += 1
            return true
        }
        return false
    }

    private mutating func expect(symbol: String) throws(Expression.ParseError) {
        guard case .symbol(symbol) = peek?.kind else {
            throw .init(message: "expected '\(symbol)'", position: peek?.position ?? end)
        }
        index += 1
    }

    mutating func parseOr() throws(Expression.ParseError) -> Expression {
        var lhs = try parseAnd()
        while accept(word: "or") { lhs = .or(lhs, try parseAnd()) }
        return lhs
    }

    private mutating func parseAnd() throws(Expression.ParseError) -> Expression {
        var lhs = try parseNot()
        while accept(word: "and") { lhs = .and(lhs, try parseNot()) }
        return lhs
    }

    private mutating func parseNot() throws(Expression.ParseError) -> Expression {
        if accept(word: "not") { return .not(try parseNot()) }
        return try parseComparison()
    }

    private mutating func parseComparison() throws(Expression.ParseError) -> Expression {
        let lhs = try parsePrimary()
        if accept(word: "contains") { return .compare(lhs, .contains, try parsePrimary()) }
        if case .symbol(let symbol) = peek?.kind, let op = Expression.Comparison(rawValue: symbol) {
            index += 1
            return .compare(lhs, op, try parsePrimary())
        }
        return lhs
    }

    private mutating func parsePrimary() throws(Expression.ParseError) -> Expression {
        guard let token = peek else { throw .init(message: "expression ends too early", position: end) }
        index += 1
        switch token.kind {
        case .number(let value): return .literal(.number(value))
        case .string(let value): return .literal(.string(value))
        case .symbol("("):
            let inner = try parseOr()
            try expect(symbol: ")")
            return inner
        case .symbol: throw .init(message: "unexpected '\(token.text)'", position: token.position)
        case .word(let word):
            switch word {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "null": return .literal(.null)
            case "exists":
                try expect(symbol: "(")
                guard case .word(let name) = peek?.kind, let path = ValuePath(name) else {
                    throw .init(message: "exists() takes a path like state.channel", position: peek?.position ?? end)
                }
                index += 1
                try expect(symbol: ")")
                return .exists(path)
            case "and", "or", "not", "contains":
                throw .init(message: "unexpected '\(word)'", position: token.position)
            default:
                guard let path = ValuePath(word) else {
                    throw .init(
                        message: "unknown name '\(word)' (paths start with state. or input)", position: token.position)
                }
                return .path(path)
            }
        }
    }
}
