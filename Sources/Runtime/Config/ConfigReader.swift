import Foundation

/// Reads a service's configuration from the environment, the command line and an optional
/// `CONFIG_FILE`, collecting every problem instead of stopping at the first.
///
/// Each getter returns a usable value (its default, or an empty one) even when the key is bad or
/// missing, and records the problem; `validate()` then throws them all in one message. So a
/// service reads the common keys and its own with one reader, and an operator sees every mistake
/// at once.
///
/// Precedence: `--port` (for `PORT` only), then the environment, then the file. A key set to
/// the empty string in the environment counts as unset and hides the file's value.
public struct ConfigReader: Sendable {
    private let environment: [String: String]
    private let fileValues: [String: String]
    private let portArgument: String?

    /// Every problem recorded so far, in the order the keys were read.
    public private(set) var problems: [ConfigurationProblem] = []

    /// A reader over an environment (nil: the process's) and command-line arguments (the
    /// process's by default). Reads `CONFIG_FILE` when the environment names one; a file
    /// that cannot be read or parsed is recorded as a problem.
    public init(
        environment: [String: String]? = nil,
        arguments: [String] = CommandLine.arguments
    ) {
        let environment = environment ?? ProcessInfo.processInfo.environment
        self.environment = environment
        var problems: [ConfigurationProblem] = []

        var portArgument: String?
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            if argument == "--port" {
                if arguments.index(after: index) < arguments.endIndex {
                    index = arguments.index(after: index)
                    portArgument = arguments[index]
                } else {
                    problems.append(ConfigurationProblem(key: "PORT", message: "--port needs a value"))
                }
            } else if argument.hasPrefix("--port=") {
                portArgument = String(argument.dropFirst("--port=".count))
            }
            index = arguments.index(after: index)
        }
        self.portArgument = portArgument

        var fileValues: [String: String] = [:]
        if let path = environment["CONFIG_FILE"], !path.isEmpty {
            do {
                let file = ConfigFile(parsing: try String(contentsOfFile: path, encoding: .utf8))
                fileValues = file.values
                for error in file.errors {
                    problems.append(
                        ConfigurationProblem(
                            key: "CONFIG_FILE", message: "CONFIG_FILE \"\(path)\" line \(error.line): \(error.reason)"))
                }
            } catch {
                problems.append(
                    ConfigurationProblem(key: "CONFIG_FILE", message: "CONFIG_FILE \"\(path)\" cannot be read"))
            }
        }
        self.fileValues = fileValues
        self.problems = problems
    }

    /// Whether nothing is wrong so far.
    public var isValid: Bool { problems.isEmpty }

    /// The raw value of a key after precedence, or nil when unset or empty.
    public func value(_ key: String) -> String? {
        if key == "PORT", let portArgument { return portArgument }
        if let value = environment[key] { return value.isEmpty ? nil : value }
        if let value = fileValues[key], !value.isEmpty { return value }
        return nil
    }

    /// Records a problem with a key, for checks a service makes itself. `message` must name the
    /// key and must not contain a secret value. The same message is recorded once.
    public mutating func recordProblem(_ key: String, _ message: String) {
        let problem = ConfigurationProblem(key: key, message: message)
        if !problems.contains(problem) { problems.append(problem) }
    }

    /// Throws one `ConfigurationError` listing every problem recorded, if there are any.
    public func validate() throws(ConfigurationError) {
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
    }

    // MARK: Typed getters

    /// A text value, or nil when unset.
    public func string(_ key: String) -> String? {
        value(key)
    }

    /// A text value, or `defaultValue` when unset.
    public func string(_ key: String, default defaultValue: String) -> String {
        value(key) ?? defaultValue
    }

    /// A text value that must be set; records `KEY is missing` and returns "" otherwise.
    public mutating func requiredString(_ key: String) -> String {
        guard let value = value(key) else {
            recordProblem(key, "\(key) is missing")
            return ""
        }
        return value
    }

    /// An integer, `defaultValue` when unset; outside `range` or not a number is a problem.
    public mutating func int(_ key: String, default defaultValue: Int, range: ClosedRange<Int>? = nil) -> Int {
        guard let text = value(key) else { return defaultValue }
        guard let number = Int(text.trimmed(of: " ")) else {
            recordProblem(key, "\(key) \(shown(key, text)) is not an integer")
            return defaultValue
        }
        if let range, !range.contains(number) {
            recordProblem(key, "\(key) \(shown(key, text)) is outside \(range.lowerBound)-\(range.upperBound)")
            return defaultValue
        }
        return number
    }

    /// A TCP port, 1–65535 (0 too when `allowZero`: "pick a free port"). Without a default the
    /// key is required. `PORT` can also come from `--port N` or `--port=N`, which wins.
    public mutating func port(_ key: String, default defaultValue: Int? = nil, allowZero: Bool = false) -> Int {
        guard let text = value(key) else {
            if let defaultValue { return defaultValue }
            recordProblem(key, key == "PORT" ? "PORT is missing (set PORT or --port)" : "\(key) is missing")
            return 0
        }
        guard let port = ConfigValueFormats.port(text, allowZero: allowZero) else {
            let source = key == "PORT" && portArgument != nil ? "--port" : key
            recordProblem(key, "\(source) \(shown(key, text)) is not a port (\(allowZero ? 0 : 1)-65535)")
            return defaultValue ?? 0
        }
        return port
    }

    /// A duration: `500ms`, `5s`, `2m`, `1h` or plain seconds; `defaultValue` when unset.
    public mutating func duration(_ key: String, default defaultValue: Duration) -> Duration {
        guard let text = value(key) else { return defaultValue }
        guard let duration = ConfigValueFormats.duration(text) else {
            recordProblem(
                key, "\(key) \(shown(key, text)) is not a duration (e.g. 500ms, 5s, 2m, 1h or plain seconds)")
            return defaultValue
        }
        return duration
    }

    /// A flag: true/false, 1/0, yes/no, on/off; `defaultValue` when unset.
    public mutating func bool(_ key: String, default defaultValue: Bool) -> Bool {
        guard let text = value(key) else { return defaultValue }
        guard let flag = ConfigValueFormats.bool(text) else {
            recordProblem(key, "\(key) \(shown(key, text)) is not true or false")
            return defaultValue
        }
        return flag
    }

    /// A comma-separated list, each item trimmed, empty items dropped; empty when unset.
    public func list(_ key: String) -> [String] {
        (value(key) ?? "").split(separator: ",").map { $0.trimmed(of: " \t\r\n") }.filter { !$0.isEmpty }
    }

    /// One of an enumeration's raw values (any case), e.g. a log level; `defaultValue` when unset.
    public mutating func choice<Value: RawRepresentable & CaseIterable>(
        _ key: String, default defaultValue: Value
    ) -> Value where Value.RawValue == String {
        guard let text = value(key) else { return defaultValue }
        guard let choice = Value(rawValue: text.trimmed(of: " ").lowercased()) else {
            let allowed = Value.allCases.map(\.rawValue).joined(separator: "|")
            recordProblem(key, "\(key) \(shown(key, text)) is not one of \(allowed)")
            return defaultValue
        }
        return choice
    }

    /// A comma-separated list of `host:port` addresses (`[v6]:port` for IPv6), e.g. a peer's
    /// replicas; nil when unset. Each entry is checked.
    public mutating func addresses(_ key: String) -> [String]? {
        guard value(key) != nil else { return nil }
        let entries = list(key)
        guard !entries.isEmpty else {
            recordProblem(key, "\(key) has no addresses (expected host:port[,host:port...])")
            return nil
        }
        var valid: [String] = []
        for entry in entries {
            if ConfigValueFormats.hostPort(entry) != nil {
                valid.append(entry)
            } else {
                recordProblem(key, "\(key) entry \(shown(key, entry)) is not host:port")
            }
        }
        return valid.count == entries.count ? valid : nil
    }

    /// A secret from `KEY`, or from the file named by `KEY_FILE` (trailing newlines trimmed);
    /// nil when neither is set. Both set, an unreadable or empty file, and — when `required` — a
    /// missing one are problems. The value never appears in a message.
    public mutating func secret(_ key: String, required: Bool) -> Secret? {
        let fileKey = key + "_FILE"
        switch (value(key), value(fileKey)) {
        case (_?, _?):
            recordProblem(key, "\(key) and \(fileKey) are both set (set only one)")
            return nil
        case (let text?, nil):
            return Secret(text)
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path) else {
                recordProblem(key, "\(fileKey) \"\(path)\" cannot be read")
                return nil
            }
            var bytes = Array(data)
            while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") {
                bytes.removeLast()
            }
            guard !bytes.isEmpty else {
                recordProblem(key, "\(fileKey) \"\(path)\" is empty")
                return nil
            }
            return Secret(bytes: bytes)
        case (nil, nil):
            if required { recordProblem(key, "\(key) is missing (set \(key) or \(fileKey))") }
            return nil
        }
    }

    /// The secret box's keyring from a `keyid:base64key[,keyid:base64key...]` secret (`KEY` or
    /// `KEY_FILE`); empty when unset. The first key seals; all of them open.
    public mutating func secretBoxKeys(_ key: String = "SECRET_BOX_KEYS") -> [SecretBoxKey] {
        guard let secret = secret(key, required: false) else { return [] }
        let (keys, problems) = SecretBoxKey.parseKeyring(secret.reveal())
        for problem in problems { recordProblem(key, "\(key) \(problem)") }
        return problems.isEmpty ? keys : []
    }

    /// A value as it may appear in a message: not at all for keys that look secret.
    private func shown(_ key: String, _ value: String) -> String {
        ConfigValueFormats.looksSecret(key) ? "(value hidden)" : ConfigValueFormats.display(value)
    }
}
