/// HTTP header fields in order, looked up by name in any case. Printing them hides the values of
/// credentials (Authorization, cookies, API keys, tokens, and every field marked secret) so a
/// logged request leaks nothing; a redirect to another origin drops those fields.
public struct OutboundHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral,
    CustomStringConvertible
{
    /// One header field.
    public struct Field: Sendable, Hashable {
        /// The name as given.
        public var name: String
        /// The value.
        public var value: String
        /// Whether the value is a secret (an API key, a tool's secret): it is never printed and
        /// never follows a redirect to another origin, whatever the field's name.
        public var isSecret: Bool

        /// A field.
        public init(name: String, value: String, isSecret: Bool = false) {
            self.name = name
            self.value = value
            self.isSecret = isSecret
        }
    }

    /// The fields in order.
    public private(set) var fields: [Field]

    /// Headers from name–value pairs, in order.
    public init(_ pairs: [(String, String)] = []) {
        fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    /// Headers from a literal, in order.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// Adds a field, keeping any others with the same name; `secret` marks a value that must
    /// stay with its origin.
    public mutating func add(name: String, value: String, secret: Bool = false) {
        fields.append(Field(name: name, value: value, isSecret: secret))
    }

    /// Sets a field, removing any others with the same name; `secret` as for `add`.
    public mutating func replaceOrAdd(name: String, value: String, secret: Bool = false) {
        remove(name: name)
        add(name: name, value: value, secret: secret)
    }

    /// Removes every field with a name.
    public mutating func remove(name: String) {
        fields.removeAll { $0.name.lowercased() == name.lowercased() }
    }

    /// Removes every field for which `shouldRemove` is true.
    public mutating func removeAll(where shouldRemove: (Field) throws -> Bool) rethrows {
        try fields.removeAll(where: shouldRemove)
    }

    /// Every value of a name, in order.
    public subscript(name: String) -> [String] {
        fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// The first value of a name.
    public func first(name: String) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Iterates the fields in order.
    public func makeIterator() -> IndexingIterator<[Field]> {
        fields.makeIterator()
    }

    /// `name: value` lines; credential values are shown as `<redacted>`.
    public var description: String {
        fields.map { "\($0.name): \($0.isSecret || Self.isSensitive($0.name) ? "<redacted>" : $0.value)" }
            .joined(separator: "\n")
    }

    /// Whether a header carries credentials.
    static func isSensitive(_ name: String) -> Bool {
        let name = name.lowercased()
        return ["authorization", "proxy-authorization", "cookie", "set-cookie"].contains(name)
            || ["key", "token", "secret", "signature", "password"].contains { name.contains($0) }
    }
}
