import FlowEngine

/// The knowledge-base chunks a run's tools found (a kb_search result's `results`), kept with the
/// assistant's answer as the message's `citations` metadata (a JSON array), so a conversation read
/// again later still shows what each answer rests on. Bounded: at most `maximum` chunks, in the
/// order found, each once, their text cut at `maximumTextCharacters`.
struct AnswerCitations: Sendable {
    /// The most chunks kept per answer.
    static let maximum = 20
    /// The longest chunk text kept (characters).
    static let maximumTextCharacters = 2_000
    /// The metadata key of the saved assistant message.
    static let metadataKey = "citations"

    private(set) var found: [JSONValue] = []
    private var seen: Set<String> = []

    /// Adds the chunks of one tool result (anything else in it is ignored).
    mutating func collect(_ result: JSONValue?) {
        guard let results = result?.objectValue?["results"]?.arrayValue else { return }
        for item in results where found.count < Self.maximum {
            guard let entry = item.objectValue, let document = entry["document_id"]?.stringValue,
                let chunk = entry["chunk_id"].flatMap({ $0.stringValue ?? $0.numberValue.map { String($0) } })
            else { continue }
            guard seen.insert(document + "\u{0}" + chunk).inserted else { continue }
            var kept: [String: JSONValue] = ["document_id": .string(document), "chunk_id": entry["chunk_id"]!]
            for key in ["title", "heading_path", "score"] { kept[key] = entry[key] }
            if let text = entry["text"]?.stringValue {
                kept["text"] = .string(String(text.prefix(Self.maximumTextCharacters)))
            }
            found.append(.object(kept))
        }
    }

    /// The metadata to save with the answer: none when no chunk was found.
    var metadata: [String: String] {
        found.isEmpty ? [:] : [Self.metadataKey: JSONValue.array(found).jsonText]
    }
}
