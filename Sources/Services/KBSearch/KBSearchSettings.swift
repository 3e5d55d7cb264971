public import RuntimeConfig

/// The KB search service's own configuration keys (see docs/CONFIGURATION.md).
public struct KBSearchSettings: Sendable {
    /// Largest chunk, in characters (`KB_CHUNK_SIZE`).
    public var chunkSize: Int
    /// Characters shared by consecutive chunks of a section (`KB_CHUNK_OVERLAP`).
    public var chunkOverlap: Int
    /// Largest document text accepted, in bytes (`KB_MAX_DOCUMENT_BYTES`).
    public var maxDocumentBytes: Int
    /// Texts per Embed call to the gateway (`KB_EMBED_BATCH_SIZE`).
    public var embedBatchSize: Int
    /// Embedding model asked of the gateway; empty: the tenant's default (`KB_EMBEDDING_MODEL`).
    public var embeddingModel: String
    /// Chunks of one tenant from which vector search uses the approximate index (`KB_ANN_THRESHOLD`).
    public var annThreshold: Int
    /// hnswlib's M: links per node (`KB_ANN_M`).
    public var annM: Int
    /// hnswlib's ef at construction (`KB_ANN_EF_CONSTRUCTION`).
    public var annEfConstruction: Int
    /// hnswlib's ef at search, at least top-k (`KB_ANN_EF_SEARCH`).
    public var annEfSearch: Int
    /// Chunks held in memory for all tenants together before the least recently used tenants are
    /// dropped (`KB_CACHE_MAX_CHUNKS`).
    public var cacheMaxChunks: Int
    /// Searches per tenant per minute, all replicas together; 0: no limit (`KB_SEARCH_RATE_LIMIT`).
    public var searchRateLimit: Int
    /// Whether start-up loads the indexes of tenants at or above the threshold (`KB_PRELOAD`).
    public var preload: Bool
    /// How often approximate indexes catch up with other replicas' writes when idle (`KB_SYNC_INTERVAL`).
    public var syncInterval: Duration

    /// Settings with the defaults.
    public init(
        chunkSize: Int = 1000, chunkOverlap: Int = 150, maxDocumentBytes: Int = 20 << 20, embedBatchSize: Int = 64,
        embeddingModel: String = "", annThreshold: Int = 20_000, annM: Int = 48, annEfConstruction: Int = 300,
        annEfSearch: Int = 512, cacheMaxChunks: Int = 2_000_000, searchRateLimit: Int = 1200, preload: Bool = true,
        syncInterval: Duration = .seconds(2)
    ) {
        self.chunkSize = chunkSize
        self.chunkOverlap = chunkOverlap
        self.maxDocumentBytes = maxDocumentBytes
        self.embedBatchSize = embedBatchSize
        self.embeddingModel = embeddingModel
        self.annThreshold = annThreshold
        self.annM = annM
        self.annEfConstruction = annEfConstruction
        self.annEfSearch = annEfSearch
        self.cacheMaxChunks = cacheMaxChunks
        self.searchRateLimit = searchRateLimit
        self.preload = preload
        self.syncInterval = syncInterval
    }

    /// Reads the keys, recording a problem for each bad one.
    public init(reading reader: inout ConfigReader) {
        let defaults = KBSearchSettings()
        chunkSize = reader.int("KB_CHUNK_SIZE", default: defaults.chunkSize, range: 100...100_000)
        chunkOverlap = reader.int("KB_CHUNK_OVERLAP", default: defaults.chunkOverlap, range: 0...50_000)
        if chunkOverlap * 2 > chunkSize {
            reader.recordProblem("KB_CHUNK_OVERLAP", "KB_CHUNK_OVERLAP must be at most half of KB_CHUNK_SIZE")
        }
        maxDocumentBytes = reader.int(
            "KB_MAX_DOCUMENT_BYTES", default: defaults.maxDocumentBytes, range: 1...(1 << 30))
        embedBatchSize = reader.int("KB_EMBED_BATCH_SIZE", default: defaults.embedBatchSize, range: 1...256)
        embeddingModel = reader.string("KB_EMBEDDING_MODEL", default: defaults.embeddingModel)
        annThreshold = reader.int("KB_ANN_THRESHOLD", default: defaults.annThreshold, range: 1...1_000_000_000)
        annM = reader.int("KB_ANN_M", default: defaults.annM, range: 2...100)
        annEfConstruction = reader.int("KB_ANN_EF_CONSTRUCTION", default: defaults.annEfConstruction, range: 10...2000)
        annEfSearch = reader.int("KB_ANN_EF_SEARCH", default: defaults.annEfSearch, range: 10...2000)
        cacheMaxChunks = reader.int(
            "KB_CACHE_MAX_CHUNKS", default: defaults.cacheMaxChunks, range: 1...1_000_000_000)
        searchRateLimit = reader.int(
            "KB_SEARCH_RATE_LIMIT", default: defaults.searchRateLimit, range: 0...100_000_000)
        preload = reader.bool("KB_PRELOAD", default: defaults.preload)
        syncInterval = reader.duration("KB_SYNC_INTERVAL", default: defaults.syncInterval)
        if syncInterval <= .zero {
            reader.recordProblem("KB_SYNC_INTERVAL", "KB_SYNC_INTERVAL must be positive, e.g. 2s")
        }
    }
}
