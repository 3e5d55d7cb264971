/// The well-known types whose JSON form is not an object of their fields.
enum WellKnownType: Equatable {
    /// `google.protobuf.Timestamp`: an RFC 3339 string.
    case timestamp
    /// `google.protobuf.Duration`: `"1.5s"`.
    case duration
    /// `google.protobuf.Struct`: any JSON object.
    case structure
    /// `google.protobuf.Value`: any JSON value.
    case value
    /// `google.protobuf.ListValue`: any JSON array.
    case listValue
    /// `google.protobuf.FieldMask`: `"a.b,c"` with lowerCamelCase paths.
    case fieldMask
    /// `google.protobuf.Any`: not supported (it would need a type URL resolver).
    case any
    /// `google.protobuf.Int32Value` and the other wrappers: the JSON of their `value` field.
    case wrapper

    init?(fullName: String) {
        switch fullName {
        case "google.protobuf.Timestamp": self = .timestamp
        case "google.protobuf.Duration": self = .duration
        case "google.protobuf.Struct": self = .structure
        case "google.protobuf.Value": self = .value
        case "google.protobuf.ListValue": self = .listValue
        case "google.protobuf.FieldMask": self = .fieldMask
        case "google.protobuf.Any": self = .any
        case "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
            "google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
            "google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue":
            self = .wrapper
        default: return nil
        }
    }

    /// The full name of the enum whose JSON form is `null`.
    static let nullValueEnum = "google.protobuf.NullValue"
    /// The full name of `google.protobuf.Value`.
    static let valueMessage = "google.protobuf.Value"
}
