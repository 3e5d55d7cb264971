import FlowEngine
import Foundation
import RPCModels

/// Conversions between `google.protobuf.Struct` values and JSON, for tool configs, schemas,
/// arguments and results.
enum ToolJSON {
    static func value(_ json: JSONValue) -> Google_Protobuf_Value {
        var value = Google_Protobuf_Value()
        switch json {
        case .null: value.kind = .nullValue(.nullValue)
        case .bool(let flag): value.kind = .boolValue(flag)
        case .number(let number): value.kind = .numberValue(number)
        case .string(let text): value.kind = .stringValue(text)
        case .array(let items):
            var list = Google_Protobuf_ListValue()
            list.values = items.map { Self.value($0) }
            value.kind = .listValue(list)
        case .object(let members): value.kind = .structValue(structure(members))
        }
        return value
    }

    static func structure(_ members: [String: JSONValue]) -> Google_Protobuf_Struct {
        var result = Google_Protobuf_Struct()
        result.fields = members.mapValues(value)
        return result
    }

    static func json(_ value: Google_Protobuf_Value) -> JSONValue {
        switch value.kind {
        case .nullValue, nil: .null
        case .boolValue(let flag): .bool(flag)
        case .numberValue(let number): .number(number)
        case .stringValue(let text): .string(text)
        case .listValue(let list): .array(list.values.map(json))
        case .structValue(let object): .object(members(object))
        }
    }

    static func members(_ structure: Google_Protobuf_Struct?) -> [String: JSONValue] {
        (structure?.fields ?? [:]).mapValues(json)
    }

    static func members(text: String) -> [String: JSONValue] {
        (try? JSONValue.parse(text))?.objectValue ?? [:]
    }
}
