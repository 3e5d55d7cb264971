/// A google.api.http path template (`/v1/agents/{agent_id}`, `/v1/{name=files/*}/content`,
/// `/v1/items:batchGet`), parsed once, matched against request paths.
public struct PathTemplate: Sendable, Hashable {
    /// One piece of a template's path.
    public enum Segment: Sendable, Hashable {
        /// Must equal this text (after percent-decoding the request's segment).
        case literal(String)
        /// Any one segment (`*`), not captured.
        case wildcard
        /// Any number of segments (`**`), not captured; only last.
        case rest
        /// Captured into the field at `fieldPath`; `pattern` is what it spans (`*` when none given).
        case variable(fieldPath: [String], pattern: [Segment])
    }

    /// The template's segments.
    public let segments: [Segment]
    /// The custom verb after the last `:`, if any.
    public let verb: String?
    /// The text it was parsed from.
    public let text: String

    /// Why a template was refused.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        /// What is wrong.
        public let description: String
    }

    /// Parses `text`; throws on anything outside the google.api.http grammar.
    public init(_ text: String) throws(ParseError) {
        guard text.hasPrefix("/") else { throw ParseError(description: "\(text): a path template starts with /") }
        self.text = text
        var body = Substring(text.dropFirst())
        var verb: String?
        // The verb is after the last ':' outside braces.
        var depth = 0
        var verbStart: Substring.Index?
        for index in body.indices {
            switch body[index] {
            case "{": depth += 1
            case "}": depth -= 1
            case ":" where depth == 0: verbStart = index
            default: break
            }
        }
        if let verbStart {
            verb = String(body[body.index(after: verbStart)...])
            body = body[..<verbStart]
            guard let verb, !verb.isEmpty, !verb.contains("/") else {
                throw ParseError(description: "\(text): an empty or malformed custom verb")
            }
        }
        self.verb = verb
        segments = try Self.parseSegments(body, in: text, allowVariables: true)
        if let restIndex = segments.firstIndex(where: { $0 == .rest || $0.endsWithRest }),
            restIndex != segments.count - 1
        {
            throw ParseError(description: "\(text): ** may only be last")
        }
    }

    private static func parseSegments(_ body: Substring, in text: String, allowVariables: Bool) throws(ParseError)
        -> [Segment]
    {
        var segments: [Segment] = []
        var rest = body
        while !rest.isEmpty || segments.isEmpty {
            if rest.first == "{" {
                guard allowVariables, let close = rest.firstIndex(of: "}") else {
                    throw ParseError(description: "\(text): unbalanced or nested braces")
                }
                let inside = rest[rest.index(after: rest.startIndex)..<close]
                let parts = inside.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let fieldPath = parts[0].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                guard fieldPath.allSatisfy(Self.isIdentifier) else {
                    throw ParseError(description: "\(text): \"\(parts[0])\" is not a field path")
                }
                let pattern =
                    parts.count == 2 ? try parseSegments(parts[1], in: text, allowVariables: false) : [.wildcard]
                segments.append(.variable(fieldPath: fieldPath, pattern: pattern))
                rest = rest[rest.index(after: close)...]
            } else {
                let end = rest.firstIndex(of: "/") ?? rest.endIndex
                let piece = rest[..<end]
                switch piece {
                case "*": segments.append(.wildcard)
                case "**": segments.append(.rest)
                case "": throw ParseError(description: "\(text): an empty segment")
                default:
                    guard !piece.contains("{"), !piece.contains("}"), !piece.contains("*") else {
                        throw ParseError(description: "\(text): \"\(piece)\" mixes a literal with a variable")
                    }
                    segments.append(.literal(String(piece)))
                }
                rest = rest[end...]
            }
            if rest.isEmpty { break }
            guard rest.first == "/" else {
                throw ParseError(description: "\(text): a variable must fill a whole segment")
            }
            rest = rest.dropFirst()
            if rest.isEmpty { throw ParseError(description: "\(text): a trailing /") }
        }
        return segments
    }

    private static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return text.unicodeScalars.allSatisfy {
            $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
        }
    }

    /// The number of literal segments: the more, the more specific (`/v1/users/me` beats
    /// `/v1/users/{user_id}`).
    public var specificity: Int {
        segments.reduce(0) { count, segment in
            if case .literal = segment { return count + 1 }
            return count
        }
    }

    /// The variables bound by matching `path` (already split at `/`, each segment raw, i.e.
    /// still percent-encoded), or nil when it does not match. Captured text is percent-decoded;
    /// a multi-segment capture keeps its `/`s. Nil also for a segment that is not valid
    /// percent-encoding of UTF-8.
    public func match(segments path: [Substring], verb requestVerb: String?) -> [(fieldPath: [String], value: String)]?
    {
        guard requestVerb == verb else { return nil }
        var bindings: [(fieldPath: [String], value: String)] = []
        var index = 0
        for segment in segments {
            switch segment {
            case .literal(let literal):
                guard index < path.count, path[index].matchesLiteral(literal) else { return nil }
                index += 1
            case .wildcard:
                guard index < path.count, !path[index].isEmpty else { return nil }
                index += 1
            case .rest:
                index = path.count
            case .variable(let fieldPath, let pattern):
                let start = index
                for piece in pattern {
                    switch piece {
                    case .literal(let literal):
                        guard index < path.count, path[index].matchesLiteral(literal) else { return nil }
                        index += 1
                    case .wildcard:
                        guard index < path.count, !path[index].isEmpty else { return nil }
                        index += 1
                    case .rest:
                        index = path.count
                    case .variable:
                        return nil
                    }
                }
                let captured = path[start..<index]
                if captured.count == 1 {
                    guard let value = PercentDecoding.decode(captured[captured.startIndex]) else { return nil }
                    bindings.append((fieldPath, value))
                } else {
                    // Multi-segment captures keep "%2F" encoded, as google.api.http says.
                    var parts: [String] = []
                    for part in captured {
                        guard let value = PercentDecoding.decode(part, keepingSlashes: true) else { return nil }
                        parts.append(value)
                    }
                    bindings.append((fieldPath, parts.joined(separator: "/")))
                }
            }
        }
        return index == path.count ? bindings : nil
    }

    /// The template's variables' field paths, in order.
    public var variables: [[String]] {
        segments.compactMap { segment in
            if case .variable(let fieldPath, _) = segment { return fieldPath }
            return nil
        }
    }
}

extension PathTemplate.Segment {
    fileprivate var endsWithRest: Bool {
        if case .variable(_, let pattern) = self { return pattern.last == .rest }
        return false
    }
}
