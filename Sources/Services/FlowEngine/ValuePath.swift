/// A reference into the run's state: `input`, `state.channel`, `state.obj.field`, `state.list.0`,
/// `state.list.*.field` (the field of every element).
struct ValuePath: Sendable, Hashable {
    /// The channel read first.
    let channel: String
    /// Members, indexes or `*` below the channel.
    let segments: [String]

    /// Parses `input`, `input.x` or `state.<channel>(.<segment>)*`; nil when malformed.
    init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        if parts[0] == "input" {
            channel = "input"
            segments = Array(parts.dropFirst())
        } else if parts[0] == "state", parts.count >= 2 {
            channel = parts[1]
            segments = Array(parts.dropFirst(2))
        } else {
            return nil
        }
        let valid = parts.allSatisfy { part in
            part == "*"
                || part.unicodeScalars.allSatisfy {
                    $0 == "_" || $0 == "-" || $0.properties.isAlphabetic
                        || ("0"..."9").contains($0)
                }
        }
        if !valid { return nil }
    }

    /// The value at this path; nil when any step is missing.
    func resolve(in state: [String: JSONValue]) -> JSONValue? {
        guard let root = state[channel] else { return nil }
        return Self.walk(root, segments[...])
    }

    private static func walk(_ value: JSONValue, _ rest: ArraySlice<String>) -> JSONValue? {
        guard let segment = rest.first else { return value }
        let remaining = rest.dropFirst()
        switch value {
        case .object(let members):
            guard let child = members[segment] else { return nil }
            return walk(child, remaining)
        case .array(let elements):
            if segment == "*" { return .array(elements.compactMap { walk($0, remaining) }) }
            guard let index = Int(segment), elements.indices.contains(index) else { return nil }
            return walk(elements[index], remaining)
        default:
            return nil
        }
    }
}
