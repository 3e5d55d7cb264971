import Foundation
import RPCModels
import ServiceTestSupport
import Testing

/// recall@5 of the three search modes over a written corpus, through the public RPC interface.
@Suite("KB retrieval evaluation")
struct RetrievalEvaluationTests {
    /// Below the threshold (PostgreSQL ranking, exact scan) and above it (in-memory BM25, HNSW).
    @Test(arguments: ["20000", "1"])
    func hybridRecallAtFiveIsHighAndNoWorseThanEitherMode(threshold: String) async throws {
        let kb = try await KBFixture.start(["KB_ANN_THRESHOLD": threshold])
        let tenant = uniqueTenant("kb-eval")
        let service = try await serviceBearer(tenant: tenant)
        for document in RetrievalCorpus.documents {
            let body = "# \(document.title)\n\n" + document.sentences.joined(separator: " ")
            try await kb.client.index(document.id, title: document.title, text: body, metadata: service)
        }
        var recall: [Agentplane_V1_SearchMode: Double] = [:]
        for mode in [Agentplane_V1_SearchMode.lexical, .vector, .hybrid] {
            var hits = 0
            for question in RetrievalCorpus.questions {
                let response = try await kb.client.search(question.question, mode: mode, topK: 5, metadata: service)
                if response.results.contains(where: { $0.documentID == question.answer }) { hits += 1 }
            }
            recall[mode] = Double(hits) / Double(RetrievalCorpus.questions.count)
        }
        let lexical = recall[.lexical] ?? 0
        let vector = recall[.vector] ?? 0
        let hybrid = recall[.hybrid] ?? 0
        print(
            "KB retrieval evaluation, KB_ANN_THRESHOLD=\(threshold) (\(RetrievalCorpus.documents.count) documents, "
                + "\(RetrievalCorpus.questions.count) questions): recall@5 lexical \(lexical), vector \(vector), "
                + "hybrid \(hybrid)")
        #expect(RetrievalCorpus.documents.count >= 50)
        #expect(RetrievalCorpus.questions.count >= 30)
        #expect(hybrid >= 0.7)
        #expect(hybrid >= max(lexical, vector) - 0.02)
        try await kb.stop()
    }
}
