/// Runs an operation `iterations` times and returns a value folded from every result, which the
/// caller prints so that the optimiser cannot drop the work.
typealias Body = (_ iterations: Int) -> Int

/// The three timed operations of one message, for one library, and what the cross-check needs.
struct Contender {
    /// Encodes the sample.
    let encode: Body
    /// Decodes the sample's encoding.
    let decode: Body
    /// Encodes the sample and decodes the result.
    let encodeDecode: Body
    /// The sample's encoding.
    let encoded: [UInt8]
    /// Decodes bytes as the sample's type and says whether they equal the sample.
    let decodesEqual: ([UInt8]) -> Bool
}

/// One row of the result table: one operation on one message, ours against swift-protobuf.
struct Case {
    /// The message's name, as printed.
    let message: String
    /// The operation's name, as printed.
    let operation: String
    /// Operations per timing.
    let iterations: Int
    /// Our codec.
    let ours: Body
    /// swift-protobuf.
    let theirs: Body
    /// Nanoseconds per operation of each timing, ours.
    var oursSamples: [Double] = []
    /// Nanoseconds per operation of each timing, swift-protobuf.
    var theirsSamples: [Double] = []
}

/// Times cases in interleaved rounds: every round times each case's two contenders back to back,
/// alternating which goes first, so that drift in the machine's speed hits both alike.
struct Harness {
    /// The cases, in table order.
    var cases: [Case] = []
    /// Folded from every timed result; printed at the end.
    private(set) var sink = 0

    private let clock = ContinuousClock()

    /// Nanoseconds per operation of one timing of `body`.
    private mutating func time(_ body: Body, _ iterations: Int) -> Double {
        let start = clock.now
        let folded = body(iterations)
        let elapsed = clock.now - start
        sink &+= folded
        let (seconds, attoseconds) = elapsed.components
        return (Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(iterations)
    }

    /// Runs `warmup` untimed rounds, then `rounds` timed ones.
    mutating func run(rounds: Int, warmup: Int) {
        for round in 0..<(warmup + rounds) {
            let record = round >= warmup
            for index in cases.indices {
                let iterations = cases[index].iterations
                if round % 2 == 0 {
                    let ours = time(cases[index].ours, iterations)
                    let theirs = time(cases[index].theirs, iterations)
                    if record { cases[index].oursSamples.append(ours) }
                    if record { cases[index].theirsSamples.append(theirs) }
                } else {
                    let theirs = time(cases[index].theirs, iterations)
                    let ours = time(cases[index].ours, iterations)
                    if record { cases[index].oursSamples.append(ours) }
                    if record { cases[index].theirsSamples.append(theirs) }
                }
            }
        }
    }
}

/// Summary statistics of one contender's timings.
struct Stats {
    /// The median, in ns/op.
    let median: Double
    /// (max - min) / median, as a fraction.
    let spread: Double

    /// The statistics of `samples`, which must not be empty.
    init(_ samples: [Double]) {
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        spread = median > 0 ? (sorted[sorted.count - 1] - sorted[0]) / median : 0
    }
}

/// `value` with `digits` decimals, without Foundation.
func fixed(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int((abs(value) * scale).rounded())
    let whole = String(scaled / Int(scale))
    var text = value < 0 ? "-" + whole : whole
    if digits > 0 {
        let fraction = String(scaled % Int(scale))
        text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
    return text
}

/// `text` padded with spaces to `width`, on the left when `right` is true.
func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return right ? padding + text : text + padding
}
