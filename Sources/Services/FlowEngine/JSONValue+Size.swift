extension JSONValue {
    /// The UTF-8 size of the value as compact JSON (`jsonText`), computed without building the
    /// text. Counting stops once it passes `limit`: the result is then some number above
    /// `limit`, so measuring a huge value against a small cap costs about the cap.
    public func encodedSize(limit: Int = .max) -> Int {
        var size = 0
        addSize(to: &size, limit: limit)
        return size
    }

    private func addSize(to size: inout Int, limit: Int) {
        guard size <= limit else { return }
        switch self {
        case .null: size += 4
        case .bool(let value): size += value ? 4 : 5
        case .number(let value): size += Self.format(value).utf8.count
        case .string(let value): size += Self.encodedSize(of: value, limit: limit - size)
        case .array(let values):
            size += 1 + max(values.count - 1, 0) + 1
            for value in values {
                value.addSize(to: &size, limit: limit)
                if size > limit { return }
            }
        case .object(let members):
            size += 1 + max(members.count - 1, 0) + 1
            for (key, value) in members {
                size += Self.encodedSize(of: key, limit: limit - size) + 1
                value.addSize(to: &size, limit: limit)
                if size > limit { return }
            }
        }
    }

    /// The size of `value` as a JSON string literal (quotes and escapes included), stopping
    /// early once it passes `limit`.
    static func encodedSize(of value: String, limit: Int) -> Int {
        var size = 2
        for byte in value.utf8 {
            switch byte {
            case 0x22, 0x5C, 0x0A, 0x0D, 0x09: size += 2
            case 0..<0x20: size += 6
            default: size += 1
            }
            if size > limit { return size }
        }
        return size
    }
}
