/// One bad or missing configuration key, with a sentence that says what is wrong with it.
public struct ConfigurationProblem: Sendable, Hashable, CustomStringConvertible {
    /// The key the problem is about, e.g. `PORT`.
    public var key: String
    /// The whole sentence, naming the key, e.g. `PORT is missing`. Never holds a secret value.
    public var message: String

    /// A problem with a key.
    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// Start-up configuration that cannot be used: every bad or missing key, reported together so an
/// operator fixes them all in one go.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Every problem, in the order the keys were read.
    public var problems: [ConfigurationProblem]

    /// An error listing problems.
    public init(problems: [ConfigurationProblem]) {
        self.problems = problems
    }

    /// The keys with problems, in order, without repeats.
    public var keys: [String] {
        var seen = Set<String>()
        return problems.map(\.key).filter { seen.insert($0).inserted }
    }

    /// `configuration: PORT is missing; REDIS_URL "foo" is not a redis:// URL; ...`.
    public var description: String {
        "configuration: " + problems.map(\.message).joined(separator: "; ")
    }
}
