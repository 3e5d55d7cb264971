/// A parsed JSON document. Strings and keys are kept as their UTF-8 bytes (compared byte for byte,
/// not by Unicode equivalence); numbers as their literal text, converted only once the field's type
/// is known.
enum JSONValue {
    case null
    case bool(Bool)
    /// The literal's text, checked against JSON's number grammar.
    case number([UInt8])
    /// The unescaped, valid UTF-8 bytes.
    case string([UInt8])
    case array([JSONValue])
    /// The members in document order; keys are unique.
    case object([JSONMember])

    /// `an object`, `a string`...: what the value is, for error messages.
    var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool(let value): value ? "true" : "false"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One member of a JSON object.
struct JSONMember {
    let key: [UInt8]
    let value: JSONValue
}
