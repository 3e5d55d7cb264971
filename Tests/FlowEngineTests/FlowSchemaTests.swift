import FlowEngine
import Foundation
import Testing

/// The schema the engine exports for editors agrees with the validator: every kind it lists is
/// accepted, every field it calls required is required, its choices are what the validator takes.
@Suite("Flow schema")
struct FlowSchemaTests {
    /// A value the validator accepts for a field of this kind (nodes: "b"; channels: "text" or "obj").
    func sample(_ field: NodeFieldSchema) -> JSONValue {
        switch field.kind {
        case .template, .text: return .string("hello {{input}}")
        case .expression: return .string("exists(state.text)")
        case .channel: return .string(field.channelTypes == ["object"] ? "obj" : "text")
        case .tool: return .string("search")
        case .node: return .string("b")
        case .nodes: return .array([.string("b")])
        case .number: return .number(field.minimum ?? 1)
        case .bool: return .bool(true)
        case .choice: return .string(field.choices?.first ?? "")
        case .choices, .strings: return .array((field.choices ?? ["x"]).map(JSONValue.string))
        case .templateObject: return .object(["q": .string("{{input}}")])
        case .channelValues: return .object(["text": .string("{{input}}")])
        case .json: return .null
        case .list:
            return .array([.object(Dictionary(uniqueKeysWithValues: (field.fields ?? []).map { ($0.key, sample($0)) }))]
            )
        case .object:
            return .object(Dictionary(uniqueKeysWithValues: (field.fields ?? []).map { ($0.key, sample($0)) }))
        }
    }

    func flow(with node: [String: JSONValue]) -> JSONValue {
        .object([
            "entry": .string("a"),
            "state": .object([
                "text": .object(["type": .string("string")]), "obj": .object(["type": .string("object")]),
            ]),
            "nodes": .array([.object(node), .object(["id": .string("b"), "kind": .string("end")])]),
        ])
    }

    @Test func listsTheKindsTheValidatorAccepts() {
        #expect(FlowSchema.current.nodeKinds.map(\.kind) == FlowValidator.nodeKinds)
        #expect(FlowValidator.nodeKinds == ["llm", "tool", "router", "llm_router", "human_input", "set", "end"])
    }

    @Test(arguments: FlowSchema.current.nodeKinds.map(\.kind))
    func aNodeWithEveryFieldOfItsKindIsValid(kind: String) throws {
        let schema = try #require(FlowSchema.current.nodeKinds.first { $0.kind == kind })
        var node: [String: JSONValue] = ["id": .string("a"), "kind": .string(kind)]
        for field in schema.fields { node[field.key] = sample(field) }
        for field in FlowSchema.current.commonFields where field.key != "wait_for" {
            if field.key == "next", schema.choosesSuccessors { continue }
            node[field.key] = sample(field)
        }
        let validation = FlowValidator.validate(flow(with: node))
        #expect(validation.errors.isEmpty, "\(kind): \(validation.errors)")
    }

    @Test(arguments: FlowSchema.current.nodeKinds.map(\.kind))
    func everyRequiredFieldIsRequired(kind: String) throws {
        let schema = try #require(FlowSchema.current.nodeKinds.first { $0.kind == kind })
        var node: [String: JSONValue] = ["id": .string("a"), "kind": .string(kind)]
        for field in schema.fields where field.required { node[field.key] = sample(field) }
        #expect(FlowValidator.validate(flow(with: node)).errors.isEmpty, "\(kind) with its required fields")
        for field in schema.fields where field.required {
            var without = node
            without[field.key] = nil
            let errors = FlowValidator.validate(flow(with: without)).errors
            #expect(errors.contains { $0.path == "$.nodes[0].\(field.key)" }, "\(kind) without \(field.key): \(errors)")
        }
    }

    @Test func choicesAreTheValidatorsOwn() throws {
        let retry = try #require(FlowSchema.current.commonFields.first { $0.key == "retry" })
        let retryOn = try #require(retry.fields?.first { $0.key == "retry_on" })
        #expect(retryOn.choices == NodeErrorKind.allCases.map(\.rawValue))
        #expect(
            FlowSchema.current.channelFields.first { $0.key == "reducer" }?.choices == Reducer.allCases.map(\.rawValue))
        #expect(
            FlowSchema.current.channelFields.first { $0.key == "type" }?.choices == ChannelType.allCases.map(\.rawValue)
        )
        #expect(FlowSchema.current.limits["max_nodes"] == Double(FlowValidator.maxNodes))
    }

    @Test func encodesAsJSON() throws {
        let data = try JSONEncoder().encode(FlowSchema.current)
        let decoded = try JSONDecoder().decode(FlowSchema.self, from: data)
        #expect(decoded == FlowSchema.current)
    }
}

/// Layout metadata (`metadata.positions`) is accepted, checked for shape, and limited in size.
@Suite("Flow layout metadata")
struct FlowLayoutMetadataTests {
    func validate(metadata: String) -> FlowValidation {
        FlowValidator.validate(
            json: #"{"entry": "a", "nodes": [{"id": "a", "kind": "end"}], "metadata": \#(metadata)}"#)
    }

    @Test func positionsAreAccepted() {
        let validation = validate(metadata: #"{"positions": {"a": {"x": 12.5, "y": -40}}, "zoom": 2}"#)
        #expect(validation.isValid)
        #expect(validation.warnings.isEmpty)
    }

    @Test func theSupportAgentWithPositionsIsValid() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../examples/support-agent.flow.json")
        guard case .object(var flow) = try JSONValue.parse(Data(contentsOf: url)) else {
            Issue.record("not an object")
            return
        }
        let ids = flow["nodes"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        flow["metadata"] = .object([
            "positions": .object(
                Dictionary(
                    uniqueKeysWithValues: ids.enumerated().map {
                        ($1, JSONValue.object(["x": .number(0), "y": .number(Double($0) * 100)]))
                    }))
        ])
        let validation = FlowValidator.validate(.object(flow))
        #expect(validation.isValid, "\(validation.errors)")
    }

    @Test func malformedMetadataIsAnError() {
        #expect(validate(metadata: "[]").errors.map(\.path) == ["$.metadata"])
        #expect(validate(metadata: #"{"positions": [1]}"#).errors.map(\.path) == ["$.metadata.positions"])
        let bad = validate(metadata: #"{"positions": {"a": {"x": "1", "y": 2}}}"#)
        #expect(bad.errors.map(\.path) == ["$.metadata.positions.a"])
        #expect(bad.errors.first?.code == "INVALID_VALUE")
    }

    @Test func aPositionOfNoNodeIsAWarning() {
        let validation = validate(metadata: #"{"positions": {"a": {"x": 0, "y": 0}, "gone": {"x": 1, "y": 1}}}"#)
        #expect(validation.isValid)
        #expect(validation.warnings.map(\.code) == ["STALE_POSITION"])
        #expect(validation.warnings.map(\.path) == ["$.metadata.positions.gone"])
    }

    @Test func coordinatesUpToTheLimit() {
        let limit = Int(FlowLayoutMetadata.maxCoordinate)
        #expect(validate(metadata: #"{"positions": {"a": {"x": \#(limit), "y": -\#(limit)}}}"#).isValid)
        let past = validate(metadata: #"{"positions": {"a": {"x": \#(limit + 1), "y": 0}}}"#)
        #expect(past.errors.map(\.path) == ["$.metadata.positions.a"])
    }

    @Test func sizeUpToTheLimit() {
        // {"pad":"…"} is 10 bytes plus the string.
        let atLimit = String(repeating: "x", count: FlowLayoutMetadata.maxBytes - 10)
        #expect(validate(metadata: #"{"pad":"\#(atLimit)"}"#).isValid)
        let past = validate(metadata: #"{"pad":"\#(atLimit)x"}"#)
        #expect(past.errors.map(\.code) == ["LIMIT_EXCEEDED"])
        #expect(past.errors.map(\.path) == ["$.metadata"])
    }
}
