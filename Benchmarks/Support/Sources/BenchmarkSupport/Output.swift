import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The running program's name, which prefixes its progress lines.
private let programName = URL(fileURLWithPath: CommandLine.arguments.first ?? "benchmark").lastPathComponent

/// Prints a progress line to standard error (standard output carries the results).
public func progress(_ message: String) {
    let line = Array("\(programName): \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Prints `message` to standard error and exits with status 2.
public func fail(_ message: String) -> Never {
    progress(message)
    exit(2)
}

/// `value` with `digits` decimals.
public func fixed(_ value: Double, _ digits: Int) -> String {
    String(format: "%.\(digits)f", value)
}

/// Prints one machine-readable result line (`metric NAME VALUE`) for the benchmark's driver script.
public func metric(_ name: String, _ value: Double, digits: Int = 3) {
    print("metric \(name) \(fixed(value, digits))")
}

/// Milliseconds in `duration`.
public func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1e3 + Double(attoseconds) / 1e15
}

/// Microseconds in `duration`.
public func microseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1e6 + Double(attoseconds) / 1e12
}

/// The one-minute load average, to show how busy the machine was (-1 when unknown).
public func loadAverage() -> Double {
    var loads = [Double](repeating: 0, count: 3)
    return getloadavg(&loads, 3) > 0 ? loads[0] : -1
}
