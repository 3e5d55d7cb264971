import FoundationEssentials
public import ProtoCoding
public import RPCModels

/// The messages that the codec tests round-trip and compare with Python's protobuf package.
///
/// `Tests/Interop/codec_corpus.py` builds the same messages, by the same names, independently.
public enum CodecCorpus {
    /// A named message of any generated type.
    public struct Sample: Sendable {
        /// The name both sides use for the sample's file.
        public let name: String
        /// The message.
        public let message: any ProtoMessageBox
    }

    /// Every sample, in a fixed order.
    public static let samples: [Sample] = [
        Sample(name: "scalars_default", message: Agentplane_Test_V1_Scalars()),
        Sample(name: "scalars_max", message: scalarsMax),
        Sample(name: "scalars_min", message: scalarsMin),
        Sample(name: "repeated_small", message: repeatedSmall),
        Sample(name: "repeated_large", message: repeatedLarge),
        Sample(name: "maps", message: maps),
        Sample(name: "choice_empty_text", message: Agentplane_Test_V1_Choice(before: "b", pick: .text(""))),
        Sample(name: "choice_false_flag", message: Agentplane_Test_V1_Choice(after: "a", pick: .flag(false))),
        Sample(name: "choice_nested", message: choiceNested),
        Sample(name: "node_50_deep", message: node(depth: 50)),
        Sample(name: "well_known", message: wellKnown),
        Sample(name: "outer", message: outer),
        Sample(name: "unknown_enum", message: Agentplane_Test_V1_Scalars(fColor: .UNRECOGNIZED(77))),
        Sample(name: "agent", message: agent),
    ]

    /// A contract message: an agent with a 4 KB flow, 20 tags and a metadata map.
    public static let agent = Agentplane_V1_Agent(
        id: "8a5e2c4e-3f0b-4d7e-9a41-2b7c1f0d9e11", name: "Support desk", description: "Answers from the KB.",
        flowJSON: "{\"nodes\":["
            + (0..<75).map { "{\"id\":\"n\($0)\",\"kind\":\"tool\",\"params\":{\"query\":\"lookup \($0)\"}}" }
            .joined(separator: ",") + "]}",
        tags: (0..<20).map { "tag-\($0)" },
        metadata: ["team": "support", "owner": "ops@example.com", "tier": "gold", "region": "eu", "": "empty"],
        version: 7, latestVersion: 9, authorID: "u-1", changeMessage: "tune threshold", restoredFromVersion: 3,
        createdBy: "u-0", createdAt: Google_Protobuf_Timestamp(seconds: 1_700_000_000, nanos: 5),
        updatedAt: Google_Protobuf_Timestamp(seconds: 1_700_000_100))

    static let scalarsMax = Agentplane_Test_V1_Scalars(
        fDouble: .greatestFiniteMagnitude, fFloat: .infinity, fInt32: .max, fInt64: .max, fUint32: .max,
        fUint64: .max, fSint32: .max, fSint64: .max, fFixed32: .max, fFixed64: .max, fSfixed32: .max,
        fSfixed64: .max, fBool: true, fString: "héllo wörld · 日本語 · 🚀 · e\u{301}", fBytes: Data([0, 1, 127, 128, 255]),
        fColor: .green)

    static let scalarsMin = Agentplane_Test_V1_Scalars(
        fDouble: -.infinity, fFloat: -.greatestFiniteMagnitude, fInt32: .min, fInt64: .min, fUint32: 1,
        fUint64: 1, fSint32: .min, fSint64: .min, fFixed32: 1, fFixed64: 1, fSfixed32: .min, fSfixed64: .min,
        fBool: false, fString: "x", fBytes: Data([0]), fColor: .negative)

    static let repeatedSmall = Agentplane_Test_V1_Repeated(
        rDouble: [0, -1.5, .infinity], rFloat: [1.25, -0.0], rInt32: [-1, 0, .max], rInt64: [.min, .max],
        rUint32: [0, .max], rUint64: [.max], rSint32: [-2, 2], rSint64: [.min], rFixed32: [7], rFixed64: [8],
        rSfixed32: [-9], rSfixed64: [-10], rBool: [true, false, true], rString: ["", "a", "ü"],
        rBytes: [Data(), Data([1, 2])], rColor: [.red, .negative, .UNRECOGNIZED(9)],
        rMessage: [Agentplane_Test_V1_Scalars(), scalarsMax], rUnpacked: [1, -1, 300])

    static let repeatedLarge = Agentplane_Test_V1_Repeated(
        rDouble: (0..<10_000).map { Double($0) * 0.5 }, rInt32: (0..<10_000).map { Int32($0) - 5_000 },
        rSint64: (0..<10_000).map { Int64($0) * -1_000_003 }, rBool: (0..<10_000).map { $0 % 3 == 0 },
        rString: (0..<10_000).map { "item-\($0)" }, rColor: (0..<10_000).map { $0 % 2 == 0 ? .red : .green },
        rMessage: (0..<10_000).map { Agentplane_Test_V1_Scalars(fInt32: Int32($0)) },
        rUnpacked: (0..<10_000).map { Int32($0) })

    static let maps = Agentplane_Test_V1_Maps(
        stringToString: ["": "empty key", "k": "", "ключ": "значение"],
        int32ToInt64: [0: 0, -1: .min, .max: .max],
        uint64ToBytes: [0: Data(), .max: Data([9, 9])],
        boolToMessage: [false: Agentplane_Test_V1_Scalars(), true: Agentplane_Test_V1_Scalars(fString: "t")],
        sint32ToColor: [-5: .red, 5: .negative],
        stringToMessage: ["": Agentplane_Test_V1_Scalars(fInt64: -1)],
        fixed64ToDouble: [1: -0.5],
        sfixed32ToBool: [-1: true, 0: false])

    static let choiceNested = Agentplane_Test_V1_Choice(
        before: "outer",
        pick: .nested(Agentplane_Test_V1_Choice(pick: .scalars(Agentplane_Test_V1_Scalars(fInt32: -7)))))

    /// A chain of `depth` nodes, each holding the next.
    public static func node(depth: Int) -> Agentplane_Test_V1_Node {
        var node = Agentplane_Test_V1_Node(depth: Int32(depth), label: "leaf")
        for level in stride(from: depth - 1, through: 1, by: -1) {
            node = Agentplane_Test_V1_Node(child: node, depth: Int32(level), label: "level \(level)")
        }
        return node
    }

    static let wellKnown = Agentplane_Test_V1_WellKnown(
        at: Google_Protobuf_Timestamp(seconds: 1_764_000_000, nanos: 123_456_789),
        took: Google_Protobuf_Duration(seconds: -3, nanos: -500),
        data: Google_Protobuf_Struct(fields: [
            "name": Google_Protobuf_Value(kind: .stringValue("support-agent")),
            "threshold": Google_Protobuf_Value(kind: .numberValue(0.35)),
            "enabled": Google_Protobuf_Value(kind: .boolValue(true)),
            "nothing": Google_Protobuf_Value(kind: .nullValue(.nullValue)),
            "nested": Google_Protobuf_Value(
                kind: .structValue(
                    Google_Protobuf_Struct(fields: ["deep": Google_Protobuf_Value(kind: .numberValue(-1))]))),
            "list": Google_Protobuf_Value(
                kind: .listValue(
                    Google_Protobuf_ListValue(values: [
                        Google_Protobuf_Value(kind: .stringValue("a")), Google_Protobuf_Value(kind: .numberValue(2)),
                    ]))),
        ]),
        value: Google_Protobuf_Value(kind: .stringValue("")),
        list: Google_Protobuf_ListValue(values: []))

    static let outer = Agentplane_Test_V1_Outer(
        inner: Agentplane_Test_V1_Outer.Inner(level: .high, name: "in"),
        inners: [Agentplane_Test_V1_Outer.Inner(), Agentplane_Test_V1_Outer.Inner(name: "second")],
        level: .high,
        byName: ["x": Agentplane_Test_V1_Outer.Inner(level: .UNRECOGNIZED(5), name: "x")],
        default: "default is a keyword", protocol: "so is protocol", selfID: -42)
}

/// A type-erased message that can re-encode itself and compare a decoding with itself.
public protocol ProtoMessageBox: Sendable {
    /// The wire encoding.
    func encoded() -> [UInt8]
    /// Decodes `bytes` as this message's type and says whether the result equals this message.
    func decodesEqual(_ bytes: [UInt8]) throws -> Bool
    /// The type's protobuf name.
    var typeName: String { get }
}

extension ProtoMessageBox where Self: ProtoMessage {
    /// The wire encoding.
    public func encoded() -> [UInt8] { serializedBytes() }
    /// Decodes `bytes` as this message's type and says whether the result equals this message.
    public func decodesEqual(_ bytes: [UInt8]) throws -> Bool { try Self(serializedBytes: bytes) == self }
    /// The type's protobuf name.
    public var typeName: String { Self.protoMessageName }
}

extension Agentplane_Test_V1_Scalars: ProtoMessageBox {}
extension Agentplane_Test_V1_Repeated: ProtoMessageBox {}
extension Agentplane_Test_V1_Maps: ProtoMessageBox {}
extension Agentplane_Test_V1_Choice: ProtoMessageBox {}
extension Agentplane_Test_V1_Node: ProtoMessageBox {}
extension Agentplane_Test_V1_WellKnown: ProtoMessageBox {}
extension Agentplane_Test_V1_Outer: ProtoMessageBox {}
extension Agentplane_V1_Agent: ProtoMessageBox {}
