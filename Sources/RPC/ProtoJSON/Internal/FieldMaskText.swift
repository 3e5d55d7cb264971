/// `google.protobuf.FieldMask` as text: the paths joined by commas, each in lowerCamelCase
/// (`user.display_name` ↔ `user.displayName`).
enum FieldMaskText {
    /// The snake_case paths of `text`, or nil when a path cannot be one (it has `_`).
    static func parse(_ text: [UInt8]) -> [[UInt8]]? {
        guard !text.isEmpty else { return [] }
        var paths: [[UInt8]] = []
        for path in text.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            var snake: [UInt8] = []
            for byte in path {
                if byte == UInt8(ascii: "_") { return nil }
                if byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") {
                    snake += [UInt8(ascii: "_"), byte + 32]
                } else {
                    snake.append(byte)
                }
            }
            paths.append(snake)
        }
        return paths
    }

    /// A snake_case path in lowerCamelCase, or nil when it would not read back the same (it has
    /// capitals, or `_` not before a lowercase letter).
    static func camelCase(_ path: [UInt8]) -> [UInt8]? {
        var result: [UInt8] = []
        var capitalizeNext = false
        for byte in path {
            if byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") { return nil }
            if byte == UInt8(ascii: "_") {
                if capitalizeNext { return nil }
                capitalizeNext = true
            } else if capitalizeNext {
                guard byte >= UInt8(ascii: "a"), byte <= UInt8(ascii: "z") else { return nil }
                result.append(byte - 32)
                capitalizeNext = false
            } else {
                result.append(byte)
            }
        }
        return capitalizeNext ? nil : result
    }
}
