import Foundation

/// The text formats of configuration values, as pure functions the reader and its tests share.
enum ConfigValueFormats {
    /// `500ms`, `5s`, `2m`, `1h` or plain seconds (`10`, `0.5`); nil when not a duration.
    static func duration(_ text: String) -> Duration? {
        let text = text.trimmed(of: " ").lowercased()
        let number = text.prefix(while: { $0.isASCII && ($0.isNumber || $0 == ".") })
        let unit = text.dropFirst(number.count)
        guard !number.isEmpty, let value = Double(number), value.isFinite, value >= 0 else { return nil }
        let nanosecondsPerUnit: Double
        switch unit {
        case "", "s": nanosecondsPerUnit = 1e9
        case "ms": nanosecondsPerUnit = 1e6
        case "m": nanosecondsPerUnit = 60e9
        case "h": nanosecondsPerUnit = 3600e9
        default: return nil
        }
        let nanoseconds = value * nanosecondsPerUnit
        // A century is far beyond any sensible timeout and well inside Int64 nanoseconds.
        guard nanoseconds <= 100 * 365 * 86_400e9 else { return nil }
        return .nanoseconds(Int64(nanoseconds.rounded()))
    }

    /// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, any case; nil otherwise.
    static func bool(_ text: String) -> Bool? {
        switch text.trimmed(of: " ").lowercased() {
        case "true", "1", "yes", "on": true
        case "false", "0", "no", "off": false
        default: nil
        }
    }

    /// A port number in `range`; nil when not digits or out of range.
    static func port(_ text: String, allowZero: Bool) -> Int? {
        let text = text.trimmed(of: " ")
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = Int(text), port <= 65_535, allowZero || port > 0
        else { return nil }
        return port
    }

    /// `host:port` or `[v6]:port`, with a non-empty host of hostname characters and a port in
    /// 1–65535; nil otherwise.
    static func hostPort(_ text: String) -> (host: String, port: Int)? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard isHostName(host) else { return nil }
        }
        guard let port = port(String(portText), allowZero: false) else { return nil }
        return (String(host), port)
    }

    /// Whether text is a DNS name or an IPv4 address: letters, digits, `-`, `_` and `.`, labels of
    /// at most 63 characters.
    static func isHostName(_ host: some StringProtocol) -> Bool {
        guard !host.isEmpty, host.count <= 253 else { return false }
        return host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }
    }

    /// Whether a key's name says it holds a secret, so its value is kept out of messages even when
    /// it is not read with `secret(_:required:)`.
    static func looksSecret(_ key: String) -> Bool {
        let key = key.uppercased()
        return ["SECRET", "PASSWORD", "TOKEN", "_KEY", "CREDENTIAL"].contains { key.contains($0) }
    }

    /// A value as it may appear in a message: quoted, with any password in a URL's userinfo or a
    /// libpq `password=` replaced by `***`, and cut short when long.
    static func display(_ value: String) -> String {
        var shown = redactingCredentials(value)
        if shown.count > 100 { shown = shown.prefix(97) + "..." }
        return "\"" + shown.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Text with the password of a `scheme://user:password@host` URL and of libpq `password=...`
    /// pairs replaced by `***`.
    static func redactingCredentials(_ value: String) -> String {
        if let schemeEnd = value.range(of: "://") {
            let authorityStart = schemeEnd.upperBound
            let authorityEnd = value[authorityStart...].firstIndex(where: { "/?#".contains($0) }) ?? value.endIndex
            let authority = value[authorityStart..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                let userinfo = authority[..<at]
                let user = userinfo.firstIndex(of: ":").map { userinfo[..<$0] + ":***" } ?? String(userinfo)
                return value[..<authorityStart] + user + value[at..<value.endIndex]
            }
            return value
        }
        // libpq keyword/value: `password=secret` or `password = 'se cret'`.
        var result = ""
        var rest = Substring(value)
        while let range = rest.range(of: "password", options: .caseInsensitive) {
            result += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            let spaces = rest.prefix(while: { $0 == " " })
            guard rest.dropFirst(spaces.count).hasPrefix("=") else { continue }
            rest = rest.dropFirst(spaces.count + 1).drop(while: { $0 == " " })
            result += spaces + "=***"
            if rest.hasPrefix("'") {
                var index = rest.index(after: rest.startIndex)
                while index < rest.endIndex, rest[index] != "'" {
                    if rest[index] == "\\" {
                        index = rest.index(index, offsetBy: 2, limitedBy: rest.endIndex) ?? rest.endIndex
                    } else {
                        index = rest.index(after: index)
                    }
                }
                rest = index < rest.endIndex ? rest[rest.index(after: index)...] : ""
            } else {
                rest = rest.drop(while: { $0 != " " })
            }
        }
        return result + rest
    }
}
