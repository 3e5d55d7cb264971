import NIOCore

/// Commands as RESP arrays of bulk strings: every argument with its explicit length, so its
/// bytes are data whatever they contain.
enum RedisCommandEncoding {
    /// The encoded size of `commands`, for one allocation.
    static func size(_ commands: [[RedisArgument]]) -> Int {
        var total = 0
        for command in commands {
            total += 16
            for argument in command { total += argument.bytes.count + 24 }
        }
        return total
    }

    /// Appends `commands` to `buffer`.
    static func write(_ commands: [[RedisArgument]], into buffer: inout ByteBuffer) {
        for command in commands {
            buffer.writeInteger(UInt8(ascii: "*"))
            writeDecimal(command.count, into: &buffer)
            for argument in command {
                buffer.writeInteger(UInt8(ascii: "$"))
                writeDecimal(argument.bytes.count, into: &buffer)
                buffer.writeBytes(argument.bytes)
                buffer.writeInteger(crlf)
            }
        }
    }

    private static let crlf = UInt16(UInt8(ascii: "\r")) << 8 | UInt16(UInt8(ascii: "\n"))

    /// `value` in decimal followed by CR LF (a short string is stored inline: no allocation).
    private static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        if value < 10 {
            buffer.writeInteger(UInt8(ascii: "0") &+ UInt8(value))
        } else {
            buffer.writeString(String(value))
        }
        buffer.writeInteger(crlf)
    }
}
