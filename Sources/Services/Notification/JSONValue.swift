import RPCModels

/// A JSON document built by this service (message payloads, webhook bodies), written with its
/// object keys sorted so the same value always gives the same bytes: a webhook body is then
/// identical across attempts, and request fingerprints are stable.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The JSON form of a protobuf `Struct` (the request's `payload`).
    init(_ value: Google_Protobuf_Struct) {
        self = .object(value.fields.mapValues(JSONValue.init))
    }

    /// The JSON form of a protobuf `Value`.
    init(_ value: Google_Protobuf_Value) {
        switch value.kind {
        case .none, .nullValue: self = .null
        case .numberValue(let number): self = .number(number)
        case .stringValue(let text): self = .string(text)
        case .boolValue(let flag): self = .bool(flag)
        case .structValue(let object): self = JSONValue(object)
        case .listValue(let list): self = .array(list.values.map(JSONValue.init))
        }
    }

    /// Compact JSON with sorted keys.
    var text: String {
        var output = ""
        write(to: &output)
        return output
    }

    /// The value as a short line of text: strings as they are, anything else as JSON.
    var displayText: String {
        if case .string(let text) = self { return text }
        return text
    }

    private func write(to output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .number(let number): output += Self.format(number)
        case .string(let text): Self.writeString(text, to: &output)
        case .array(let values):
            output += "["
            for (index, value) in values.enumerated() {
                if index > 0 { output += "," }
                value.write(to: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { output += "," }
                Self.writeString(key, to: &output)
                output += ":"
                members[key]!.write(to: &output)
            }
            output += "}"
        }
    }

    private static func format(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        if number == number.rounded(), abs(number) < 9_007_199_254_740_992 { return String(Int64(number)) }
        return "\(number)"
    }

    private static func writeString(_ text: String, to output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case let control where control.value < 0x20:
                output +=
                    "\\u" + String(repeating: "0", count: 4 - String(control.value, radix: 16).count)
                    + String(control.value, radix: 16)
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
