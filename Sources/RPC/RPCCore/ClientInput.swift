/// Quoting a client's input in an error message: only a short prefix, so a status never
/// repeats (and amplifies) what a caller sent.
public enum ClientInput {
    /// The longest prefix of client input an error message repeats, in characters.
    public static let excerptLength = 64

    /// `text` quoted, cut to `excerptLength` characters with `...` when longer; control
    /// characters and NUL appear as `\u{..}` escapes.
    public static func excerpt(_ text: some StringProtocol) -> String {
        var out = "\""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == excerptLength {
                out += "..."
                break
            }
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out + "\""
    }
}
