/// One argument of a Redis command, as the exact bytes sent (binary safe: any byte, NUL and
/// CR LF included, travels as data and never as protocol).
public struct RedisArgument: Hashable, Sendable {
    /// The bytes sent.
    public var bytes: [UInt8]

    /// An argument of raw bytes.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// A string argument, as UTF-8.
    public init(_ string: String) {
        self.bytes = Array(string.utf8)
    }

    /// An integer argument, in decimal as Redis expects.
    public init(_ value: some BinaryInteger) {
        self.bytes = Array(String(value).utf8)
    }

    /// A floating-point argument; infinities become `inf` / `-inf`, which Redis accepts.
    public init(_ value: Double) {
        self.bytes = Array(String(value).utf8)
    }
}

extension RedisArgument: ExpressibleByStringLiteral, ExpressibleByStringInterpolation {
    /// A string literal argument, as UTF-8.
    public init(stringLiteral value: String) {
        self.init(value)
    }
}

extension RedisArgument: ExpressibleByIntegerLiteral {
    /// An integer literal argument, in decimal.
    public init(integerLiteral value: Int) {
        self.init(value)
    }
}

extension RedisArgument: ExpressibleByFloatLiteral {
    /// A floating-point literal argument.
    public init(floatLiteral value: Double) {
        self.init(value)
    }
}

/// A value that can be sent as a command argument, so calls take `String`, `Int`, `Double`,
/// `[UInt8]` and `RedisArgument` values alike: `pool.send("SET", key, 42)`.
public protocol RedisArgumentConvertible: Sendable {
    /// The argument this value is sent as.
    var redisArgument: RedisArgument { get }
}

extension RedisArgument: RedisArgumentConvertible {
    /// Itself.
    public var redisArgument: RedisArgument { self }
}

extension String: RedisArgumentConvertible {
    /// The string as UTF-8.
    public var redisArgument: RedisArgument { RedisArgument(self) }
}

extension Substring: RedisArgumentConvertible {
    /// The substring as UTF-8.
    public var redisArgument: RedisArgument { RedisArgument(String(self)) }
}

extension Int: RedisArgumentConvertible {
    /// The integer in decimal.
    public var redisArgument: RedisArgument { RedisArgument(self) }
}

extension Int64: RedisArgumentConvertible {
    /// The integer in decimal.
    public var redisArgument: RedisArgument { RedisArgument(self) }
}

extension Double: RedisArgumentConvertible {
    /// The number as Redis parses it.
    public var redisArgument: RedisArgument { RedisArgument(self) }
}

extension Array: RedisArgumentConvertible where Element == UInt8 {
    /// The bytes unchanged.
    public var redisArgument: RedisArgument { RedisArgument(self) }
}
