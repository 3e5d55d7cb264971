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
    /// Field number → position in `fields`.
    let numberIndex: FieldNumberIndex
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
        self.numberIndex = FieldNumberIndex(indexByNumber)
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
        numberIndex.position(of: number).map { fields[$0] }
    }
}

/// Where each field number sits in a message's `fields`: an array for the small numbers almost
/// every field has, a dictionary for the rest. Read for every field of every message transcoded.
final class FieldNumberIndex: Sendable {
    private let dense: [Int]
    private let sparse: [Int32: Int]

    init(_ positions: [Int32: Int]) {
        let limit = Int32(min(256, (positions.keys.max() ?? 0) + 1))
        var dense = [Int](repeating: -1, count: Int(max(0, limit)))
        var sparse: [Int32: Int] = [:]
        for (number, position) in positions {
            if number >= 0, number < limit { dense[Int(number)] = position } else { sparse[number] = position }
        }
        self.dense = dense
        self.sparse = sparse
    }

    /// The position of field `number`; nil when the message has no such field.
    func position(of number: Int32) -> Int? {
        if number >= 0, Int(number) < dense.count {
            let position = dense[Int(number)]
            return position >= 0 ? position : nil
        }
        return sparse[number]
    }
}
