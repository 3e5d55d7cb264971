import FlowEngine
import Foundation
import RPCCore
import RPCModels
import Runtime
import ServiceTestSupport
import Testing

@Suite("Execution: the answer is saved with the knowledge-base chunks it rests on")
struct AnswerCitationsTests {
    /// A knowledge-base lookup of `count` chunks, then the answer.
    static func flow(count: Int) -> String {
        """
        {"entry": "lookup",
         "state": {"found": {"type": "object"}},
         "nodes": [
           {"id": "lookup", "kind": "tool", "tool": "kb", "arguments": {"count": \(count)}, "output": "found",
            "next": "done"},
           {"id": "done", "kind": "end", "answer": "answered"}
         ]}
        """
    }

    /// The citations saved with the run's answer in conversation `conversation`.
    static func savedCitations(_ count: Int, conversation: String) async throws -> [JSONValue]? {
        let fixture = try await ExecutionFixture.start()
        let metadata = try await serviceBearer(tenant: uniqueTenant("cite"), actingUser: "user-1")
        let events = try await collect {
            try await fixture.client.execute(
                draftRequest(flow(count: count), conversation: conversation), metadata: metadata, onResponse: $0)
        }
        let runID = try #require(events.first?.runID)
        #expect(events.last?.runFinished != nil)
        let saved = try #require(fixture.control.messages["\(runID):assistant:1"])
        try await fixture.stop()
        guard let text = saved.metadata["citations"] else { return nil }
        return try JSONValue.parse(text).arrayValue
    }

    @Test("each chunk once, in the order found, its text cut at 2,000 characters")
    func chunksSavedOnce() async throws {
        let citations = try #require(try await Self.savedCitations(3, conversation: "conv-cite-1"))
        #expect(citations.count == 3)  // the repeated first chunk is not saved twice
        let first = try #require(citations.first?.objectValue)
        #expect(first["document_id"] == .string("doc-0") && first["chunk_id"] == .number(1))
        #expect(first["title"] == .string("Document 0") && first["score"] == .number(100))
        #expect(first["heading_path"] == .array([.string("Heading")]))
        #expect(first["text"]?.stringValue?.count == 2_000)
        #expect(citations.map { $0.objectValue?["document_id"]?.stringValue } == ["doc-0", "doc-0", "doc-1"])
    }

    @Test("at most 20 chunks: 20 found are all saved, 21 keep the first 20")
    func atMostTwenty() async throws {
        #expect(try await Self.savedCitations(20, conversation: "conv-cite-2")?.count == 20)
        let capped = try #require(try await Self.savedCitations(21, conversation: "conv-cite-3"))
        #expect(capped.count == 20)
        #expect(capped.last?.objectValue?["document_id"] == .string("doc-9"))
    }

    @Test("a run whose tools found no chunk saves its answer without citations")
    func noChunksNoMetadata() async throws {
        #expect(try await Self.savedCitations(0, conversation: "conv-cite-4") == nil)
    }
}
