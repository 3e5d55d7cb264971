private import CNghttp2

/// What an nghttp2 session reports while it parses input and asks for output.
///
/// Every call happens inside `NGHTTP2Session.receive` or `.send`, on the connection's event
/// loop. Implementations may submit frames from these calls, but must not receive or send.
protocol NGHTTP2SessionDelegate: AnyObject {
    /// A HEADERS frame opens a header block for a stream (request, response or trailers).
    func sessionBeganHeaders(streamID: Int32)
    /// One header field of the current block; nghttp2 has validated it. Returning false resets
    /// the stream (the header list grew past its limit): no further fields of it arrive.
    func sessionReceivedHeader(
        streamID: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>
    ) -> Bool
    /// The header block is complete; `endStream` when it also ends the peer's side.
    func sessionReceivedHeaders(streamID: Int32, endStream: Bool)
    /// A piece of a DATA frame's payload.
    func sessionReceivedData(streamID: Int32, bytes: UnsafeRawBufferPointer)
    /// A DATA frame ended the peer's side of the stream.
    func sessionReceivedEndOfData(streamID: Int32)
    /// The stream is gone; `errorCode` is the RST_STREAM code, or 0 when it closed normally.
    func sessionClosedStream(streamID: Int32, errorCode: UInt32)
    /// nghttp2 wants DATA payload for a stream: fill `buffer`; see `DataRead`.
    func sessionReadData(streamID: Int32, into buffer: UnsafeMutableRawBufferPointer) -> NGHTTP2Session.DataRead
    /// A frame ending our side of a stream (HEADERS or DATA with END_STREAM) went out.
    func sessionSentEndOfStream(streamID: Int32)
    /// The peer sent GOAWAY.
    func sessionReceivedGoaway(lastStreamID: Int32, errorCode: UInt32)
    /// The peer acknowledged one of our PINGs.
    func sessionReceivedPingAck()
}

/// An error from nghttp2, with its message.
struct NGHTTP2Error: Error, CustomStringConvertible {
    let code: Int32

    var description: String {
        "nghttp2: " + String(cString: nghttp2_strerror(code))
    }
}

/// One HTTP/2 connection's nghttp2 session: framing, HPACK, flow control and the protocol's
/// rules, driven by bytes in (`receive`) and bytes out (`send`). It owns the `nghttp2_session`
/// and frees it in `deinit`; it is confined to its connection's event loop.
final class NGHTTP2Session {
    /// Which end of the connection we are.
    enum Role { case server, client }

    /// The answer to `sessionReadData`.
    enum DataRead {
        /// `count` bytes were written into the buffer; more may follow later.
        case data(count: Int)
        /// Nothing to send now; call `resumeData` when there is.
        case deferred
        /// `count` bytes were written and they are the last; trailers follow (submitted by the
        /// delegate inside the same call) or, with `endStream`, the DATA frame ends the stream.
        case end(count: Int, endStream: Bool)
    }

    /// Settings we announce, and limits on what the peer may do.
    struct Settings {
        var maxConcurrentStreams: UInt32 = 1000
        var initialWindowSize: UInt32 = 1 << 20
        var connectionWindowSize: Int32 = 16 << 20
        var maxFrameSize: UInt32 = 1 << 14
        var maxHeaderListSize: UInt32 = 16 << 10
    }

    private var session: OpaquePointer?
    private unowned(unsafe) let delegate: any NGHTTP2SessionDelegate

    init(role: Role, delegate: any NGHTTP2SessionDelegate, settings: Settings) throws {
        self.delegate = delegate
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else {
            throw NGHTTP2Error(code: NGHTTP2_ERR_NOMEM.rawValue)
        }
        defer { nghttp2_session_callbacks_del(callbacks) }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, Callbacks.onBeginHeaders)
        nghttp2_session_callbacks_set_on_header_callback(callbacks, Callbacks.onHeader)
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, Callbacks.onFrameReceived)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, Callbacks.onDataChunk)
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, Callbacks.onStreamClose)
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, Callbacks.onFrameSent)

        var option: OpaquePointer?
        guard nghttp2_option_new(&option) == 0, let option else { throw NGHTTP2Error(code: NGHTTP2_ERR_NOMEM.rawValue) }
        defer { nghttp2_option_del(option) }
        // We give flow-control credit back only when the application has taken the data.
        nghttp2_option_set_no_auto_window_update(option, 1)
        nghttp2_option_set_max_send_header_block_length(option, 64 << 10)
        // 'Rapid reset' (CVE-2023-44487): a burst of 1000 resets, then 100 per second, or GOAWAY.
        nghttp2_option_set_stream_reset_rate_limit(option, 1000, 100)

        var created: OpaquePointer?
        let userData = Unmanaged.passUnretained(self).toOpaque()
        let result =
            switch role {
            case .server: nghttp2_session_server_new2(&created, callbacks, userData, option)
            case .client: nghttp2_session_client_new2(&created, callbacks, userData, option)
            }
        guard result == 0, let created else { throw NGHTTP2Error(code: result) }
        session = created

        var entries = [
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                value: settings.maxConcurrentStreams),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: settings.initialWindowSize),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_FRAME_SIZE.rawValue), value: settings.maxFrameSize),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue), value: settings.maxHeaderListSize),
        ]
        if role == .client {
            entries.append(
                nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0))
        }
        nghttp2_submit_settings(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), entries, entries.count)
        nghttp2_session_set_local_window_size(
            created, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, settings.connectionWindowSize)
    }

    deinit {
        nghttp2_session_del(session)
    }

    /// Feeds received bytes; delegate calls happen during this call. Throws on a connection
    /// error (the session has then queued a GOAWAY where the protocol calls for one).
    func receive(_ bytes: UnsafeRawBufferPointer) throws(NGHTTP2Error) {
        guard let base = bytes.baseAddress else { return }
        let result = nghttp2_session_mem_recv(session, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        if result < 0 { throw NGHTTP2Error(code: Int32(result)) }
    }

    /// Takes every byte nghttp2 wants to send, in order.
    func send(_ append: (UnsafeRawBufferPointer) -> Void) throws(NGHTTP2Error) {
        while true {
            var data: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &data)
            if count < 0 { throw NGHTTP2Error(code: Int32(count)) }
            guard count > 0, let data else { return }
            append(UnsafeRawBufferPointer(start: data, count: count))
        }
    }

    /// Whether the session still expects input.
    var wantsRead: Bool { nghttp2_session_want_read(session) != 0 }
    /// Whether the session has output to send.
    var wantsWrite: Bool { nghttp2_session_want_write(session) != 0 }

    /// Submits response headers; with `hasBody` DATA is pulled through `sessionReadData`,
    /// without it the headers end the stream (trailers-only, or a plain HTTP error).
    func submitResponse(streamID: Int32, headers: HeaderList, hasBody: Bool) -> Bool {
        headers.withNV { nva, count in
            if hasBody {
                var provider = nghttp2_data_provider(
                    source: nghttp2_data_source(ptr: nil), read_callback: Callbacks.readData)
                return nghttp2_submit_response(session, streamID, nva, count, &provider) == 0
            }
            return nghttp2_submit_response(session, streamID, nva, count, nil) == 0
        }
    }

    /// Submits a request; DATA is pulled through `sessionReadData`. Returns the stream id.
    func submitRequest(headers: HeaderList) throws(NGHTTP2Error) -> Int32 {
        let streamID = headers.withNV { nva, count in
            var provider = nghttp2_data_provider(
                source: nghttp2_data_source(ptr: nil), read_callback: Callbacks.readData)
            return nghttp2_submit_request(session, nil, nva, count, &provider, nil)
        }
        if streamID < 0 { throw NGHTTP2Error(code: streamID) }
        return streamID
    }

    /// Submits trailers, which end the stream.
    func submitTrailers(streamID: Int32, headers: HeaderList) -> Bool {
        headers.withNV { nva, count in nghttp2_submit_trailer(session, streamID, nva, count) == 0 }
    }

    /// Tells nghttp2 a deferred stream has DATA again.
    func resumeData(streamID: Int32) {
        nghttp2_session_resume_data(session, streamID)
    }

    /// Gives the peer flow-control credit for bytes the application has taken.
    func consume(streamID: Int32, count: Int) {
        guard count > 0 else { return }
        nghttp2_session_consume(session, streamID, count)
    }

    /// Gives back connection-level credit for bytes of a stream that is gone.
    func consumeConnection(count: Int) {
        guard count > 0 else { return }
        nghttp2_session_consume_connection(session, count)
    }

    /// Resets a stream with an HTTP/2 error code.
    func resetStream(streamID: Int32, errorCode: UInt32) {
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, errorCode)
    }

    /// Whether the peer has ended its side of the stream.
    func isRemoteClosed(streamID: Int32) -> Bool {
        nghttp2_session_get_stream_remote_close(session, streamID) != 0
    }

    /// Sends a PING with 8 bytes of opaque data.
    func ping() {
        nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
    }

    /// First step of a graceful shutdown: a GOAWAY announcing that no new streams will be taken.
    func submitShutdownNotice() {
        nghttp2_submit_shutdown_notice(session)
    }

    /// A GOAWAY naming the last stream that will be processed.
    func submitGoaway(errorCode: UInt32) {
        let last = nghttp2_session_get_last_proc_stream_id(session)
        nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, errorCode, nil, 0)
    }

    /// Ends the session with a GOAWAY carrying `errorCode`; nothing more is read.
    func terminate(errorCode: UInt32) {
        nghttp2_session_terminate_session(session, errorCode)
    }

    /// HTTP/2 error codes we send.
    enum ErrorCode {
        static let noError: UInt32 = NGHTTP2_NO_ERROR.rawValue
        static let protocolError: UInt32 = NGHTTP2_PROTOCOL_ERROR.rawValue
        static let internalError: UInt32 = NGHTTP2_INTERNAL_ERROR.rawValue
        static let refusedStream: UInt32 = NGHTTP2_REFUSED_STREAM.rawValue
        static let cancel: UInt32 = NGHTTP2_CANCEL.rawValue
        static let enhanceYourCalm: UInt32 = NGHTTP2_ENHANCE_YOUR_CALM.rawValue
    }

    /// Whether an error from `receive` means the peer did not speak HTTP/2 at all.
    static func isBadPreface(_ error: NGHTTP2Error) -> Bool {
        error.code == NGHTTP2_ERR_BAD_CLIENT_MAGIC.rawValue
    }

    // MARK: C callbacks

    /// The callbacks nghttp2 calls; `user_data` is the unretained session object, valid
    /// because the session is deleted in `deinit`.
    private enum Callbacks {
        static func owner(_ userData: UnsafeMutableRawPointer?) -> NGHTTP2Session {
            Unmanaged<NGHTTP2Session>.fromOpaque(userData!).takeUnretainedValue()
        }

        static let onBeginHeaders: nghttp2_on_begin_headers_callback = { _, frame, userData in
            owner(userData).delegate.sessionBeganHeaders(streamID: frame!.pointee.hd.stream_id)
            return 0
        }

        static let onHeader: nghttp2_on_header_callback = {
            _, frame, name, nameLength, value, valueLength, _, userData in
            let accepted = owner(userData).delegate.sessionReceivedHeader(
                streamID: frame!.pointee.hd.stream_id,
                name: UnsafeBufferPointer(start: name, count: nameLength),
                value: UnsafeBufferPointer(start: value, count: valueLength))
            // nghttp2 resets the stream (RST_STREAM) and drops the rest of its header block.
            return accepted ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
        }

        static let onFrameReceived: nghttp2_on_frame_recv_callback = { _, frame, userData in
            let frame = frame!.pointee
            let delegate = owner(userData).delegate
            let endStream = frame.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            switch UInt32(frame.hd.type) {
            case NGHTTP2_HEADERS.rawValue:
                delegate.sessionReceivedHeaders(streamID: frame.hd.stream_id, endStream: endStream)
            case NGHTTP2_DATA.rawValue:
                if endStream { delegate.sessionReceivedEndOfData(streamID: frame.hd.stream_id) }
            case NGHTTP2_GOAWAY.rawValue:
                delegate.sessionReceivedGoaway(
                    lastStreamID: frame.goaway.last_stream_id, errorCode: frame.goaway.error_code)
            case NGHTTP2_PING.rawValue:
                if frame.hd.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) != 0 { delegate.sessionReceivedPingAck() }
            default:
                break
            }
            return 0
        }

        static let onFrameSent: nghttp2_on_frame_send_callback = { _, frame, userData in
            let header = frame!.pointee.hd
            let type = UInt32(header.type)
            if type == NGHTTP2_HEADERS.rawValue || type == NGHTTP2_DATA.rawValue,
                header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            {
                owner(userData).delegate.sessionSentEndOfStream(streamID: header.stream_id)
            }
            return 0
        }

        static let onDataChunk: nghttp2_on_data_chunk_recv_callback = { _, _, streamID, data, length, userData in
            owner(userData).delegate.sessionReceivedData(
                streamID: streamID, bytes: UnsafeRawBufferPointer(start: data, count: length))
            return 0
        }

        static let onStreamClose: nghttp2_on_stream_close_callback = { _, streamID, errorCode, userData in
            owner(userData).delegate.sessionClosedStream(streamID: streamID, errorCode: errorCode)
            return 0
        }

        static let readData: nghttp2_data_source_read_callback = { _, streamID, buffer, length, flags, _, userData in
            let read = owner(userData).delegate.sessionReadData(
                streamID: streamID, into: UnsafeMutableRawBufferPointer(start: buffer, count: length))
            switch read {
            case .data(let count):
                return count
            case .deferred:
                return Int(NGHTTP2_ERR_DEFERRED.rawValue)
            case .end(let count, let endStream):
                flags!.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
                if !endStream { flags!.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue }
                return count
            }
        }
    }
}

/// Header fields to submit, kept as one byte buffer so nghttp2 can copy them in one go.
struct HeaderList {
    private var bytes: [UInt8] = []
    private var fields: [(nameStart: Int, nameLength: Int, valueStart: Int, valueLength: Int)] = []

    init() {
        bytes.reserveCapacity(256)
        fields.reserveCapacity(8)
    }

    /// Appends a field; names must already be lower-case.
    mutating func add(_ name: String, _ value: String) {
        let nameStart = bytes.count
        bytes.append(contentsOf: name.utf8)
        let valueStart = bytes.count
        bytes.append(contentsOf: value.utf8)
        fields.append((nameStart, valueStart - nameStart, valueStart, bytes.count - valueStart))
    }

    var isEmpty: Bool { fields.isEmpty }

    /// The fields' size as HTTP/2 counts a header list: name + value + 32 bytes each.
    var size: Int { bytes.count + 32 * fields.count }

    /// Appends every field of `other`.
    mutating func append(_ other: HeaderList) {
        let offset = bytes.count
        bytes.append(contentsOf: other.bytes)
        for field in other.fields {
            fields.append(
                (field.nameStart + offset, field.nameLength, field.valueStart + offset, field.valueLength))
        }
    }

    fileprivate func withNV<R>(_ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
        guard !fields.isEmpty else {
            var empty = nghttp2_nv()
            return body(&empty, 0)
        }
        return bytes.withUnsafeBufferPointer { buffer in
            // nghttp2 copies the fields without writing to them; its API just isn't const.
            let base = UnsafeMutablePointer(mutating: buffer.baseAddress!)
            return withUnsafeTemporaryAllocation(of: nghttp2_nv.self, capacity: fields.count) { nva in
                for (index, field) in fields.enumerated() {
                    nva[index] = nghttp2_nv(
                        name: base + field.nameStart, value: base + field.valueStart, namelen: field.nameLength,
                        valuelen: field.valueLength, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
                }
                return body(nva.baseAddress!, fields.count)
            }
        }
    }
}
