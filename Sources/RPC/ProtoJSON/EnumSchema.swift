/// One value of an enum.
public struct EnumValueSchema: Sendable, Hashable {
    /// The value's name (`ROLE_ADMIN`).
    public let name: String
    /// The value's number.
    public let number: Int32
}

/// An enum of the schema: its values by name and by number.
public struct EnumSchema: Sendable {
    /// The full name (`agentplane.v1.Role`), without a leading dot.
    public let fullName: String
    /// The values in declaration order; the first is the default.
    public let values: [EnumValueSchema]
    private let numbersByName: [[UInt8]: Int32]
    private let namesByNumber: [Int32: String]

    init(fullName: String, values: [EnumValueSchema]) {
        self.fullName = fullName
        self.values = values
        var numbersByName: [[UInt8]: Int32] = [:]
        var namesByNumber: [Int32: String] = [:]
        for value in values {
            if numbersByName[Array(value.name.utf8)] == nil { numbersByName[Array(value.name.utf8)] = value.number }
            // With aliases (allow_alias), the first name declared for a number is its JSON name.
            if namesByNumber[value.number] == nil { namesByNumber[value.number] = value.name }
        }
        self.numbersByName = numbersByName
        self.namesByNumber = namesByNumber
    }

    /// The number of the value named `name`, compared byte for byte.
    public func number(named name: String) -> Int32? { numbersByName[Array(name.utf8)] }

    /// The number of the value whose name is these UTF-8 bytes.
    func number(named name: [UInt8]) -> Int32? { numbersByName[name] }

    /// The name of the value numbered `number`; nil for a number the enum does not declare.
    public func name(of number: Int32) -> String? { namesByNumber[number] }
}
