import Foundation

/// One key of the secret box's keyring (`SECRET_BOX_KEYS`): an id stored beside each sealed value,
/// and 32 bytes of key material.
public struct SecretBoxKey: Sendable, Hashable, CustomStringConvertible {
    /// The key's id, `[A-Za-z0-9_-]{1,32}`; sealed values name the key that sealed them.
    public var id: String
    /// The 32-byte key.
    public var key: Secret

    /// A key from its parts.
    public init(id: String, key: Secret) {
        self.id = id
        self.key = key
    }

    /// `id:<redacted>`.
    public var description: String { "\(id):<redacted>" }

    /// Whether text is a valid key id.
    static func isValidID(_ id: some StringProtocol) -> Bool {
        (1...32).contains(id.count)
            && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    /// Parses `keyid:base64key[,keyid:base64key...]`. Problems name entries by position and id,
    /// never by key material.
    static func parseKeyring(_ text: String) -> (keys: [SecretBoxKey], problems: [String]) {
        var keys: [SecretBoxKey] = []
        var problems: [String] = []
        let entries = text.split(separator: ",").map { $0.trimmed(of: " \t\r\n") }.filter { !$0.isEmpty }
        if entries.isEmpty { problems.append("has no keys (expected keyid:base64key[,keyid:base64key...])") }
        for (index, entry) in entries.enumerated() {
            let position = "entry \(index + 1)"
            guard let colon = entry.firstIndex(of: ":") else {
                problems.append("\(position) is not keyid:base64key")
                continue
            }
            let id = entry[..<colon]
            guard isValidID(id) else {
                problems.append("\(position) has a key id that is not [A-Za-z0-9_-]{1,32}")
                continue
            }
            guard !keys.contains(where: { $0.id == id }) else {
                problems.append("\(position) repeats key id \"\(id)\"")
                continue
            }
            guard let material = Data(base64Encoded: String(entry[entry.index(after: colon)...])) else {
                problems.append("\(position) (id \"\(id)\") is not valid base64")
                continue
            }
            guard material.count == 32 else {
                problems.append("\(position) (id \"\(id)\") is \(material.count) bytes, not 32, after base64 decoding")
                continue
            }
            keys.append(SecretBoxKey(id: String(id), key: Secret(bytes: Array(material))))
        }
        return (keys, problems)
    }
}
