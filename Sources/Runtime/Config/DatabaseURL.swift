import Foundation

/// Checks of a PostgreSQL connection string in either form libpq takes.
enum DatabaseURL {
    /// Nil when libpq can take the text — a `postgres://` or `postgresql://` URI, or `key=value`
    /// pairs — otherwise what is wrong, in words that can follow the key's name.
    static func problem(with text: String) -> String? {
        let lowered = text.lowercased()
        if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") {
            // libpq allows a list of hosts (`h1:5432,h2:5432`), which URLComponents does not; check
            // the rest of the URI with the authority replaced by one plain host.
            let afterScheme = text[text.range(of: "://")!.upperBound...]
            let authorityEnd = afterScheme.firstIndex(where: { "/?#".contains($0) }) ?? afterScheme.endIndex
            let authority = afterScheme[..<authorityEnd]
            let hosts = authority.split(separator: "@").last.map(String.init) ?? ""
            for hostPort in hosts.split(separator: ",") where !hostPort.isEmpty {
                let port = hostPort.hasPrefix("[") ? hostPort.split(separator: "]").dropFirst().first : nil
                let portText =
                    hostPort.hasPrefix("[")
                    ? port.flatMap { $0.hasPrefix(":") ? $0.dropFirst() : nil }
                    : hostPort.split(separator: ":", maxSplits: 1).dropFirst().first
                if let portText, ConfigValueFormats.port(String(portText), allowZero: false) == nil {
                    return "has a port outside 1-65535"
                }
            }
            guard URLComponents(string: "postgresql://host" + afterScheme[authorityEnd...]) != nil else {
                return "is not a valid postgres:// URI"
            }
            return nil
        }
        guard text.contains("=") else { return "is not a postgres:// URI or a libpq key=value string" }
        return keyValueProblem(text)
    }

    /// Checks libpq's `key=value key='quoted value'` syntax.
    private static func keyValueProblem(_ text: String) -> String? {
        var rest = Substring(text)
        var pairs = 0
        while true {
            rest = rest.drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" })
            if rest.isEmpty { break }
            let key = rest.prefix(while: { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
            rest = rest.dropFirst(key.count).drop(while: { $0 == " " })
            guard !key.isEmpty, rest.hasPrefix("=") else {
                return "is not a postgres:// URI or a libpq key=value string"
            }
            rest = rest.dropFirst().drop(while: { $0 == " " })
            if rest.hasPrefix("'") {
                rest = rest.dropFirst()
                var closed = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if character == "\\" {
                        rest = rest.dropFirst()
                    } else if character == "'" {
                        closed = true
                        break
                    }
                }
                guard closed else { return "has an unterminated quote" }
            } else {
                rest = rest.drop(while: { $0 != " " && $0 != "\t" && $0 != "\n" })
            }
            pairs += 1
        }
        return pairs > 0 ? nil : "is not a postgres:// URI or a libpq key=value string"
    }
}
