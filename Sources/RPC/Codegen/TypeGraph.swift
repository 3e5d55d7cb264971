/// How message types contain each other, which decides two things in the generated code:
/// which fields need a box (a type that contains itself inline has no finite size), and which
/// types can nest without bound (their input gets a depth check before protobuf-c unpacks it).
struct TypeGraph {
    private var inline: [String: Set<String>] = [:]
    private var all: [String: Set<String>] = [:]
    private var cyclic: Set<String> = []

    init(types: TypeTable) {
        for (name, message) in types.messages {
            for field in message.fields where field.kind == .message {
                all[name, default: []].insert(field.typeName)
                if field.label == .singular { inline[name, default: []].insert(field.typeName) }
            }
        }
        for name in types.messages.keys where Self.reach(from: name, in: all).contains(name) {
            cyclic.insert(name)
        }
    }

    /// Whether a singular field of type `fieldType` inside `owner` must be boxed.
    func needsBox(owner: String, fieldType: String) -> Bool {
        fieldType == owner || Self.reach(from: fieldType, in: inline).contains(owner)
    }

    /// Whether messages of this type can nest without bound.
    func isRecursive(_ name: String) -> Bool {
        cyclic.contains(name) || !Self.reach(from: name, in: all).isDisjoint(with: cyclic)
    }

    private static func reach(from start: String, in edges: [String: Set<String>]) -> Set<String> {
        var seen: Set<String> = []
        var stack = Array(edges[start] ?? [])
        while let next = stack.popLast() {
            if seen.insert(next).inserted { stack.append(contentsOf: edges[next] ?? []) }
        }
        return seen
    }
}
