import Glibc

/// Whether UTF-8 bytes hold a NUL (one `memchr`), for the encoder's check before protobuf-c,
/// which would end the string there.
@usableFromInline
func containsNUL(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = utf8.baseAddress, !utf8.isEmpty else { return false }
    return memchr(base, 0, utf8.count) != nil
}
