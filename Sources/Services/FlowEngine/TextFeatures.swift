import Foundation

/// The text rules of the built-in model, shared by the LLM gateway's `builtin` provider and the
/// engine's in-process `BuiltinModelClient` so both answer alike: words, sentences and token
/// estimates.
public enum TextFeatures {
    /// Lowercased words: every character that is not a letter or a digit separates words.
    public static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        for character in text.lowercased() {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Words too common to say anything about relevance (English), ignored by the built-in chat.
    public static let stopwords: Set<String> = [
        "a", "about", "above", "after", "again", "all", "am", "an", "and", "any", "are", "as", "at", "be", "been",
        "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing",
        "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here",
        "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more",
        "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours",
        "out", "over", "own", "please", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their",
        "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until",
        "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will",
        "with", "would", "you", "your", "yours",
    ]

    /// The distinct words of `text` that are not stopwords.
    public static func contentWords(_ text: String) -> Set<String> {
        Set(words(text).filter { !stopwords.contains($0) })
    }

    /// Sentences: split after `.`, `!` or `?` followed by white space, and at line breaks;
    /// trimmed, empty ones dropped.
    public static func sentences(_ text: String) -> [String] {
        var sentences: [String] = []
        var current = ""
        var previous: Character = " "
        func flush() {
            let trimmed = current.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { sentences.append(trimmed) }
            current = ""
        }
        for character in text {
            if character.isNewline {
                flush()
            } else if character.isWhitespace && [".", "!", "?"].contains(previous) {
                flush()
            } else {
                current.append(character)
            }
            previous = character
        }
        flush()
        return sentences
    }

    /// The gateway's token estimate where a provider reports none: one token per 4 bytes of
    /// UTF-8, rounded up.
    public static func estimatedTokens(_ text: String) -> Int {
        (text.utf8.count + 3) / 4
    }
}
