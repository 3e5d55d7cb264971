/// gRPC metadata: ordered key–value pairs sent in headers or trailers.
///
/// Keys are lower-case. A key ending in `-bin` carries binary values, which travel base64
/// encoded; every other value is printable ASCII text. Keys may repeat.
public struct Metadata: Hashable, Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// One value: text, or bytes for a `-bin` key.
    public enum Value: Hashable, Sendable, ExpressibleByStringLiteral {
        case string(String)
        case binary([UInt8])

        /// A text value.
        public init(stringLiteral value: String) {
            self = .string(value)
        }
    }

    private var pairs: [(key: String, value: Value)] = []

    /// Empty metadata.
    public init() {}

    /// Metadata from pairs; a text value for a `-bin` key is taken as its UTF-8 bytes.
    public init(dictionaryLiteral elements: (String, Value)...) {
        for (key, value) in elements {
            switch value {
            case .string(let text): addString(text, forKey: key)
            case .binary(let bytes): addBinary(bytes, forKey: key)
            }
        }
    }

    /// How many pairs there are.
    public var count: Int { pairs.count }

    /// Whether there are no pairs.
    public var isEmpty: Bool { pairs.isEmpty }

    /// Adds a text value. For a `-bin` key the string's UTF-8 bytes are added instead.
    public mutating func addString(_ value: String, forKey key: String) {
        let key = key.lowercased()
        pairs.append((key, Metadata.isBinaryKey(key) ? .binary(Array(value.utf8)) : .string(value)))
    }

    /// Adds a binary value; the key should end in `-bin`.
    public mutating func addBinary(_ value: [UInt8], forKey key: String) {
        pairs.append((key.lowercased(), .binary(value)))
    }

    /// Replaces every value of `key` with one text value.
    public mutating func replaceOrAddString(_ value: String, forKey key: String) {
        removeAll(forKey: key)
        addString(value, forKey: key)
    }

    /// Removes every value of `key`.
    public mutating func removeAll(forKey key: String) {
        let key = key.lowercased()
        pairs.removeAll { $0.key == key }
    }

    /// The text values of `key`, in order.
    public subscript(stringValues key: String) -> [String] {
        let key = key.lowercased()
        return pairs.compactMap { pair in
            guard pair.key == key, case .string(let value) = pair.value else { return nil }
            return value
        }
    }

    /// The binary values of `key`, in order.
    public subscript(binaryValues key: String) -> [[UInt8]] {
        let key = key.lowercased()
        return pairs.compactMap { pair in
            guard pair.key == key, case .binary(let value) = pair.value else { return nil }
            return value
        }
    }

    /// The first text value of `key`.
    public func firstString(forKey key: String) -> String? {
        self[stringValues: key].first
    }

    /// Iterates over the pairs in order.
    public func makeIterator() -> some IteratorProtocol<(key: String, value: Value)> {
        pairs.makeIterator()
    }

    /// Appends every pair of `other`.
    public mutating func add(contentsOf other: Metadata) {
        pairs.append(contentsOf: other.pairs)
    }

    /// Whether a key carries binary values.
    public static func isBinaryKey(_ key: String) -> Bool {
        key.hasSuffix("-bin")
    }

    /// Whether both hold the same pairs in the same order.
    public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.key == $1.key && $0.value == $1.value }
    }

    /// Hashes the pairs in order.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(pairs.count)
        for pair in pairs {
            hasher.combine(pair.key)
            hasher.combine(pair.value)
        }
    }
}
