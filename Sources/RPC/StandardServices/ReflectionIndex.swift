public import ProtoCoding
import RPCCore

/// What server reflection can tell about a server: its services and the compiled .proto files
/// behind them, with lookups by file name and by symbol. Both reflection versions use it.
public struct ReflectionIndex: Sendable {
    /// An answer, independent of the reflection version.
    enum Answer {
        case files([[UInt8]])
        case services([String])
        case extensionNumbers(type: String)
        case error(code: Int32, message: String)
    }

    private let serviceNames: [String]
    private let files: [String: ProtoFileDescriptor]
    private let fileBySymbol: [String: String]

    /// An index of `services` (fully qualified names) and every file in `files`.
    public init(services: [String], files: [ProtoFileDescriptor]) {
        serviceNames = services.sorted()
        var byName: [String: ProtoFileDescriptor] = [:]
        var bySymbol: [String: String] = [:]
        for file in files {
            byName[file.name] = file
            for symbol in file.symbols { bySymbol[symbol] = file.name }
        }
        self.files = byName
        fileBySymbol = bySymbol
    }

    func listServices() -> Answer {
        .services(serviceNames)
    }

    func file(named name: String) -> Answer {
        guard files[name] != nil else { return .error(code: 5, message: "no file named \(ClientInput.excerpt(name))") }
        return .files(withDependencies(name))
    }

    /// The file declaring `symbol`; a method or field name finds its service or message's file.
    func file(containing symbol: String) -> Answer {
        var candidate = Substring(symbol)
        while !candidate.isEmpty {
            if let name = fileBySymbol[String(candidate)] { return .files(withDependencies(name)) }
            guard let dot = candidate.lastIndex(of: ".") else { break }
            candidate = candidate[..<dot]
        }
        return .error(code: 5, message: "no symbol \(ClientInput.excerpt(symbol))")
    }

    func extensionNumbers(of type: String) -> Answer {
        // proto3 has no extensions: a known type has none.
        fileBySymbol[type] == nil
            ? .error(code: 5, message: "no type \(ClientInput.excerpt(type))") : .extensionNumbers(type: type)
    }

    func fileContainingExtension(type: String, number: Int32) -> Answer {
        .error(code: 5, message: "no extension \(number) of \(ClientInput.excerpt(type))")
    }

    /// The file first, then everything it imports, each once.
    private func withDependencies(_ name: String) -> [[UInt8]] {
        var order: [String] = []
        var seen: Set<String> = []
        var pending = [name]
        while let next = pending.first {
            pending.removeFirst()
            guard seen.insert(next).inserted, let file = files[next] else { continue }
            order.append(next)
            pending += file.dependencies
        }
        return order.compactMap { files[$0]?.serializedDescriptor }
    }
}
