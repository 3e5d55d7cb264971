/// A message of the schema: its fields, looked up by name or number, and its oneofs.
public struct MessageSchema: Sendable {
    /// The full name (`agentplane.v1.GetAgentRequest`), without a leading dot.
    public let fullName: String
    /// The fields in field-number order.
    public let fields: [FieldSchema]
    /// The names of the message's oneofs (not the synthetic ones of proto3 `optional` fields), in
    /// declaration order; `FieldSchema.oneofIndex` indexes this.
    public let oneofNames: [String]
    /// True for the entry message protoc generates for a map field.
    public let isMapEntry: Bool
    /// Set for the well-known types with a special JSON form.
    let wellKnown: WellKnownType?
    private let indexByNumber: [Int32: Int]
    private let indexByName: [[UInt8]: Int]

    init(fullName: String, fields: [FieldSchema], oneofNames: [String], isMapEntry: Bool) {
        self.fullName = fullName
        self.fields = fields.sorted { $0.number < $1.number }
        self.oneofNames = oneofNames
        self.isMapEntry = isMapEntry
        self.wellKnown = WellKnownType(fullName: fullName)
        var indexByNumber: [Int32: Int] = [:]
        var indexByName: [[UInt8]: Int] = [:]
        for (index, field) in self.fields.enumerated() {
            indexByNumber[field.number] = index
            indexByName[Array(field.name.utf8)] = index
        }
        // A JSON name never shadows another field's proto name.
        for (index, field) in self.fields.enumerated() where indexByName[Array(field.jsonName.utf8)] == nil {
            indexByName[Array(field.jsonName.utf8)] = index
        }
        self.indexByNumber = indexByNumber
        self.indexByName = indexByName
    }

    /// The field whose proto name (`agent_id`) or JSON name (`agentId`) is `name`, compared byte
    /// for byte.
    public func field(named name: String) -> FieldSchema? {
        indexByName[Array(name.utf8)].map { fields[$0] }
    }

    /// The field named by these UTF-8 bytes (proto or JSON name).
    func field(named name: [UInt8]) -> FieldSchema? {
        indexByName[name].map { fields[$0] }
    }

    /// The field numbered `number`.
    public func field(number: Int32) -> FieldSchema? {
        indexByNumber[number].map { fields[$0] }
    }
}
