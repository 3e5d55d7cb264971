/// The edge's routes by HTTP method and path template, built once from `HTTPRoute.all`.
public struct RouteTable: Sendable {
    /// A route with its parsed template.
    public struct Entry: Sendable {
        /// The binding.
        public let route: HTTPRoute
        /// Its path, parsed.
        public let template: PathTemplate
        /// The number of segments it matches, when fixed (no `**`).
        let segmentCount: Int?
        /// Its literal segments before the first variable, by position: a cheap first test.
        let leadingLiterals: [(index: Int, text: String)]

        init(route: HTTPRoute, template: PathTemplate) {
            self.route = route
            self.template = template
            var count: Int? = 0
            var literals: [(index: Int, text: String)] = []
            var seenVariable = false
            for segment in template.segments {
                switch segment {
                case .literal(let text):
                    if !seenVariable, let position = count { literals.append((position, text)) }
                    count = count.map { $0 + 1 }
                case .wildcard:
                    count = count.map { $0 + 1 }
                case .rest:
                    count = nil
                case .variable(_, let pattern):
                    seenVariable = true
                    count = pattern.contains(.rest) ? nil : count.map { $0 + pattern.count }
                }
            }
            segmentCount = count
            leadingLiterals = literals
        }

        /// Whether the route cannot match these (raw) segments, by length and leading literals;
        /// false means "try the full match".
        func surelyMisses(_ segments: [Substring]) -> Bool {
            if let segmentCount, segmentCount != segments.count { return true }
            for (index, text) in leadingLiterals {
                guard index < segments.count else { return true }
                let raw = segments[index]
                // An escaped segment may still decode to the literal: the full match decides.
                if !raw.utf8.contains(0x25), !raw.utf8.elementsEqual(text.utf8) { return true }
            }
            return false
        }
    }

    /// What a request's method and path find.
    public enum Lookup: Sendable {
        /// A route, with the path variables' values by field path.
        case found(Entry, bindings: [(fieldPath: [String], value: String)])
        /// Routes exist for the path, but not for this method; they allow these.
        case methodNotAllowed(allowed: [String])
        /// No route has this path.
        case notFound
    }

    /// Every route, most specific template first.
    public let entries: [Entry]

    /// The table of `routes`; throws when a template does not parse.
    public init(routes: [HTTPRoute]) throws(PathTemplate.ParseError) {
        var entries: [Entry] = []
        for route in routes {
            entries.append(Entry(route: route, template: try PathTemplate(route.path)))
        }
        // Stable: among equally specific templates, the order of http.yaml decides.
        self.entries = entries.enumerated().sorted { lhs, rhs in
            let (left, right) = (lhs.element.template.specificity, rhs.element.template.specificity)
            return left != right ? left > right : lhs.offset < rhs.offset
        }.map(\.element)
    }

    /// The route for `method` and `path` (the request target's path, without the query).
    public func lookup(method: String, path: Substring) -> Lookup {
        guard path.hasPrefix("/") else { return .notFound }
        var rest = path.dropFirst()
        var verb: String?
        // A custom verb follows the last ':' of the last segment.
        let lastSegmentStart = rest.lastIndex(of: "/").map { rest.index(after: $0) } ?? rest.startIndex
        if let colon = rest[lastSegmentStart...].lastIndex(of: ":") {
            let candidate = String(rest[rest.index(after: colon)...])
            if entries.contains(where: { $0.template.verb == candidate }) {
                verb = candidate
                rest = rest[..<colon]
            }
        }
        let segments = rest.split(separator: "/", omittingEmptySubsequences: false)
        var allowed: [String] = []
        for entry in entries where !entry.surelyMisses(segments) {
            guard let bindings = entry.template.match(segments: segments, verb: verb) else { continue }
            if entry.route.verb.rawValue == method { return .found(entry, bindings: bindings) }
            if !allowed.contains(entry.route.verb.rawValue) { allowed.append(entry.route.verb.rawValue) }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }
}
