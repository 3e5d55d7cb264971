import Runtime
import Synchronization
import Testing

@Suite("TextKeyedCache: values kept by their text's digest, bounded by the texts' size")
struct TextKeyedCacheTests {
    @Test func keptUntilTheBoundThenStartedOverAndLargeTextsNeverKept() {
        let computed = Mutex(0)
        let cache = TextKeyedCache<Int>(capacity: 40)
        func value(_ text: String) -> Int {
            cache.value(for: text) { text in
                computed.withLock { $0 += 1 }
                return text.utf8.count
            }
        }
        #expect(value("0123456789") == 10)
        #expect(value("0123456789") == 10)
        #expect(computed.withLock { $0 } == 1)
        _ = value("abcdefghij")
        _ = value("ABCDEFGHIJ")
        _ = value("klmnopqrst")
        #expect(cache.count == 4)  // 40 bytes: at the bound.
        _ = value("KLMNOPQRST")  // Past it: the cache starts over with this one.
        #expect(cache.count == 1)
        // A text over a quarter of the bound is computed every time and never kept.
        _ = value("this text is eleven+")
        _ = value("this text is eleven+")
        #expect(cache.count == 1)
        #expect(computed.withLock { $0 } == 7)
        // Capacity 0 keeps nothing.
        let none = TextKeyedCache<Int>(capacity: 0)
        #expect(none.value(for: "") { _ in 1 } == 1)
        #expect(none.count == 0)
    }
}
