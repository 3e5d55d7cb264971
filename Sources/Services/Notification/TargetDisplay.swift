import Foundation

/// The redacted form of a target URL that deliveries show: enough to recognise the endpoint,
/// never enough to use it (webhook URLs are credentials). The query is dropped entirely.
enum TargetDisplay {
    /// E.g. `hooks.slack.com/services/T0…/…3fA9` for a Slack incoming-webhook URL.
    static func of(_ url: URL) -> String {
        var display = (url.host ?? "").lowercased()
        if let port = url.port { display += ":\(port)" }
        let segments = url.path.split(separator: "/").map(String.init)
        guard let last = segments.last else { return display }
        var shown: [String] = []
        var middle = segments.dropLast()
        // A short word first (`services`, `webhookb2`, `api`) names the kind of endpoint, not a secret.
        if let first = middle.first, first.count <= 16, first.allSatisfy({ $0.isLetter || $0.isNumber }),
            first.contains(where: \.isLetter), !first.contains(where: \.isNumber) || first.count <= 10
        {
            shown.append(first)
            middle = middle.dropFirst()
        }
        if let next = middle.first { shown.append(String(next.prefix(2)) + "…") }
        shown.append(last.count > 8 ? "…" + last.suffix(4) : "…")
        return display + "/" + shown.joined(separator: "/")
    }
}
