public import FlowEngine
public import RPCModels

/// Conversions between the engine's JSON values and the contract's `google.protobuf` types
/// (`Struct`, `Value`), shared by the services that hold flows' and tools' JSON: the control
/// plane (tool configs, schemas, arguments, results) and the execution service (inputs, state,
/// events).
public enum ProtoJSON {
    /// A proto `Value` for a JSON value.
    public static func value(_ json: JSONValue) -> Google_Protobuf_Value {
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

    /// A proto `Struct` for a JSON object's members.
    public static func structure(_ members: [String: JSONValue]) -> Google_Protobuf_Struct {
        var result = Google_Protobuf_Struct()
        result.fields = members.mapValues(value)
        return result
    }

    /// A proto `Struct` for a JSON value: an object's members, anything else under `value`.
    public static func structure(_ json: JSONValue) -> Google_Protobuf_Struct {
        if case .object(let members) = json { return structure(members) }
        return structure(["value": json])
    }

    /// The JSON value of a proto `Value`.
    public static func json(_ value: Google_Protobuf_Value) -> JSONValue {
        switch value.kind {
        case .nullValue, nil: .null
        case .boolValue(let flag): .bool(flag)
        case .numberValue(let number): .number(number)
        case .stringValue(let text): .string(text)
        case .listValue(let list): .array(list.values.map(json))
        case .structValue(let object): .object(members(object))
        }
    }

    /// The members of a proto `Struct`.
    public static func members(_ structure: Google_Protobuf_Struct?) -> [String: JSONValue] {
        (structure?.fields ?? [:]).mapValues(json)
    }

    /// JSON text of an object, for storage.
    public static func text(_ members: [String: JSONValue]) -> String {
        JSONValue.object(members).jsonText
    }

    /// The members of stored JSON text (empty when it is not an object).
    public static func members(text: String) -> [String: JSONValue] {
        (try? JSONValue.parse(text))?.objectValue ?? [:]
    }
}
