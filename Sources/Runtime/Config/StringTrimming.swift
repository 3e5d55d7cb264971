extension StringProtocol {
    /// The text without the given characters at either end.
    func trimmed(of set: String) -> String {
        let characters = Set(set)
        let start = firstIndex(where: { !characters.contains($0) }) ?? endIndex
        let end = lastIndex(where: { !characters.contains($0) }).map { index(after: $0) } ?? start
        return start < end ? String(self[start..<end]) : ""
    }
}
