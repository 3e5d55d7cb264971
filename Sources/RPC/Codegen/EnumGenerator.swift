/// Writes a protobuf enum as a Swift enum that keeps unknown values as `UNRECOGNIZED`.
struct EnumGenerator {
    let type: EnumType
    let context: GeneratorContext

    func write(_ w: inout CodeWriter) {
        let swiftName = context.swiftName("." + type.fullName)
        let shortName = swiftName.split(separator: ".").last.map(String.init) ?? swiftName
        // The first value of each number names it; later aliases are left out.
        var seen: Set<Int32> = []
        let cases = type.values.filter { seen.insert($0.number).inserted }.map {
            (name: Naming.escaped(Naming.swiftEnumCase($0.name, enumName: type.name)), $0.number, $0.comment)
        }
        w.docComment(type.comment)
        w.block("public enum \(shortName): ProtoEnum, CaseIterable") { w in
            for value in cases {
                w.docComment(value.2)
                w.line("case \(value.name)  // = \(value.1)")
            }
            w.line("/// A value this version of the contract does not know.")
            w.line("case UNRECOGNIZED(Int32)")
            w.line()
            w.line("public static let protoEnumName = \"\(type.fullName)\"")
            w.line()
            w.line("/// The known values, in declaration order.")
            w.line("public static let allCases: [Self] = [\(cases.map { "." + $0.name }.joined(separator: ", "))]")
            w.line()
            w.line("/// The zero value.")
            w.line("public init() { self = \(context.enumDefault("." + type.fullName)) }")
            w.line()
            w.line("/// The value for a wire number.")
            w.block("public init(rawValue: Int32)") { w in
                w.switchBlock("rawValue") { w in
                    for value in cases { w.line("case \(value.1): self = .\(value.name)") }
                    w.line("default: self = .UNRECOGNIZED(rawValue)")
                }
            }
            w.line()
            w.line("/// The wire number.")
            w.block("public var rawValue: Int32") { w in
                w.switchBlock("self") { w in
                    for value in cases { w.line("case .\(value.name): \(value.1)") }
                    w.line("case .UNRECOGNIZED(let number): number")
                }
            }
        }
    }
}
