/// Input the JSON mapping refuses — malformed JSON, a value of the wrong type, an unknown field,
/// malformed wire bytes — with where it is, in words fit for an HTTP 400 response.
public struct ProtoJSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field path (`agent.flow.nodes[2].id`, `metadata["a b"]`); empty for the whole document.
    public let path: String
    /// What is wrong (`expected a string`).
    public let reason: String

    /// An error at `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// `path: reason`, or the reason alone for the whole document.
    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}

/// The path to the value being read or written, kept as a stack while descending and rendered
/// only when an error needs it.
struct FieldPath {
    enum Component {
        /// An object member or a field, by the name used.
        case key(String)
        /// An object member by its UTF-8 bytes, as read from the input.
        case keyBytes([UInt8])
        /// An array element.
        case index(Int)
    }

    private(set) var components: [Component] = []

    mutating func push(_ component: Component) { components.append(component) }

    mutating func pop() { components.removeLast() }

    /// `agent.nodes[2].id`; names that are not identifiers as `["a b"]`.
    var rendered: String {
        var text = ""
        for component in components {
            switch component {
            case .index(let index): text += "[\(index)]"
            case .key(let key): Self.append(key, to: &text)
            case .keyBytes(let key): Self.append(String(decoding: key, as: UTF8.self), to: &text)
            }
        }
        return text
    }

    func error(_ reason: String) -> ProtoJSONError { ProtoJSONError(path: rendered, reason: reason) }

    private static func append(_ key: String, to text: inout String) {
        if Self.isIdentifier(key) {
            if !text.isEmpty { text += "." }
            text += key
        } else {
            text += "[" + JSONQuoting.quoted(key) + "]"
        }
    }

    private static func isIdentifier(_ key: String) -> Bool {
        guard let first = key.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            return false
        }
        return key.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
    }
}

/// Quoting of names and values from the input for error messages: JSON string syntax, cut short.
enum JSONQuoting {
    /// `text` as a JSON string literal, cut after `limit` characters.
    static func quoted(_ text: String, limit: Int = 64) -> String {
        let prefix = text.prefix(limit)
        var bytes = Array(prefix.utf8)
        if prefix.endIndex < text.endIndex { bytes += Array("...".utf8) }
        var writer = JSONWriter()
        writer.string(bytes)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Bytes from the input (valid UTF-8) quoted as above.
    static func quoted(_ bytes: [UInt8], limit: Int = 64) -> String {
        quoted(String(decoding: bytes, as: UTF8.self), limit: limit)
    }
}
