import Foundation
import Logging
import RuntimeObservability
import Synchronization
import Testing

/// Collects the lines a `JSONLogHandler` writes.
private final class LineCollector: Sendable {
    private let storage = Mutex<[String]>([])

    var lines: [String] { storage.withLock { $0 } }

    func append(_ line: String) {
        storage.withLock { $0.append(line) }
    }

    func logger(label: String = "test.logger", service: String = "test-service", level: Logger.Level = .trace)
        -> Logger
    {
        Logger(label: label) { label in
            JSONLogHandler(label: label, service: service, level: level) { self.append($0) }
        }
    }

    /// Every line parsed as a JSON object; fails the test for a line that is not one.
    func objects() throws -> [[String: Any]] {
        try lines.map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            return try #require(object as? [String: Any], "not a JSON object: \(line)")
        }
    }
}

private struct SampleError: Error, CustomStringConvertible {
    var description: String { "the disk is full" }
}

@Suite("Observability: JSON log lines")
struct ObservabilityLoggingTests {
    @Test func aLineHasTheFixedFieldsFirstAndTheMetadata() throws {
        let collector = LineCollector()
        var logger = collector.logger(label: "agentplane.control")
        logger[metadataKey: "component"] = "router"
        logger.info("agent created", metadata: ["agent_id": "a-1", "tags": ["x", "y"], "limits": ["rpm": "60"]])

        let line = try #require(collector.lines.first)
        #expect(collector.lines.count == 1)
        #expect(!line.contains("\n"))
        let order = ["\"ts\":", "\"level\":", "\"service\":", "\"logger\":", "\"message\":", "\"agent_id\":"]
        let positions = try order.map { try #require(line.range(of: $0)).lowerBound }
        #expect(positions == positions.sorted())
        #expect(line.hasPrefix("{\"ts\":"))

        let object = try #require(try collector.objects().first)
        #expect(object["level"] as? String == "info")
        #expect(object["service"] as? String == "test-service")
        #expect(object["logger"] as? String == "agentplane.control")
        #expect(object["message"] as? String == "agent created")
        #expect(object["component"] as? String == "router")
        #expect(object["agent_id"] as? String == "a-1")
        #expect(object["tags"] as? [String] == ["x", "y"])
        #expect(object["limits"] as? [String: String] == ["rpm": "60"])

        let timestamp = try #require(object["ts"] as? String)
        #expect(timestamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = try #require(formatter.date(from: timestamp))
        #expect(abs(date.timeIntervalSinceNow) < 5)
    }

    @Test func logContextMetadataIsOnEveryLineInItsScopeOnly() async throws {
        let collector = LineCollector()
        let logger = collector.logger()
        await LogContext.with(["tenant": "acme", "request_id": "r-1"]) {
            logger.info("outer")
            LogContext.with(["request_id": "r-2"]) {
                logger.warning("inner")
            }
            await Task.yield()
            logger.info("after inner")
        }
        logger.info("outside")

        let objects = try collector.objects()
        #expect(objects.map { $0["message"] as? String } == ["outer", "inner", "after inner", "outside"])
        #expect(objects.map { $0["tenant"] as? String } == ["acme", "acme", "acme", nil])
        #expect(objects.map { $0["request_id"] as? String } == ["r-1", "r-2", "r-1", nil])
        #expect(objects[1]["level"] as? String == "warning")
    }

    @Test func laterMetadataWinsAndFixedFieldNamesAreNotOverwritten() throws {
        let collector = LineCollector()
        var logger = collector.logger()
        logger[metadataKey: "who"] = "handler"
        logger[metadataKey: "where"] = "handler"
        LogContext.with(["who": "context", "what": "context"]) {
            logger.error(
                "failed", error: SampleError(), metadata: ["who": "call", "message": "spoof", "level": "none"])
        }
        let object = try #require(try collector.objects().first)
        #expect(object["who"] as? String == "call")
        #expect(object["what"] as? String == "context")
        #expect(object["where"] as? String == "handler")
        #expect(object["message"] as? String == "failed")
        #expect(object["level"] as? String == "error")
        #expect(object["meta.message"] as? String == "spoof")
        #expect(object["meta.level"] as? String == "none")
        #expect(object["error"] as? String == "the disk is full")
    }

    @Test func quotesControlCharactersAndUnicodeSurviveARoundTrip() throws {
        let collector = LineCollector()
        let logger = collector.logger()
        let tricky = "say \"hi\"\\ \n next\r\tline \u{01}\u{1F}\u{7F} é 日本 🙂 \u{2028}end"
        logger.info("\(tricky)", metadata: [tricky: .string(tricky), "list": [.string(tricky)]])

        let line = try #require(collector.lines.first)
        #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\u{2028}"))
        #expect(line.contains("\\\"hi\\\"") && line.contains("\\n") && line.contains("\\u0001"))
        let object = try #require(try collector.objects().first)
        #expect(object["message"] as? String == tricky)
        #expect(object[tricky] as? String == tricky)
        #expect(object["list"] as? [String] == [tricky])
    }

    @Test func linesBelowTheLevelAreDropped() throws {
        let collector = LineCollector()
        let logger = collector.logger(level: .notice)
        logger.debug("no")
        logger.info("no")
        logger.notice("yes")
        logger.critical("yes too")
        #expect(try collector.objects().map { $0["level"] as? String } == ["notice", "critical"])
    }

    @Test func manyTasksLoggingAtOnceWriteOnlyWholeValidLines() async throws {
        let collector = LineCollector()
        let logger = collector.logger()
        let tasks = 32
        let linesPerTask = 100
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    LogContext.with(["task": "\(task)"]) {
                        for index in 0..<linesPerTask {
                            logger.info("line \(index) of \"task\" \(task)\n", metadata: ["index": "\(index)"])
                        }
                    }
                }
            }
        }
        let objects = try collector.objects()
        #expect(objects.count == tasks * linesPerTask)
        for object in objects {
            let task = try #require(object["task"] as? String)
            let index = try #require(object["index"] as? String)
            #expect(object["message"] as? String == "line \(index) of \"task\" \(task)\n")
        }
        #expect(Set(objects.compactMap { $0["task"] as? String }).count == tasks)
    }

    @Test func bootstrappingLoggingTwiceIsHarmless() {
        Observability.bootstrapLogging(service: "runtime-tests", level: .warning)
        #expect(Observability.bootstrapLogging(service: "other", level: .trace) == false)
        #expect(Logger(label: "after.bootstrap").handler is JSONLogHandler)
    }

    @Test func theMetadataProviderCarriesTheContextToOtherHandlers() {
        LogContext.with(["tenant": "t-9"]) {
            #expect(LogContext.metadataProvider.get()["tenant"] == "t-9")
        }
        #expect(LogContext.metadataProvider.get().isEmpty)
    }
}
