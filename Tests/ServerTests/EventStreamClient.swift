import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A bare HTTP/1.1 client for `GET /v1/events` as Server-Sent Events over a real socket: the
/// test clients of Hummingbird wait for a whole response, which a stream never ends.
///
/// It reads on a thread of its own (blocking `read`, never on Swift's cooperative pool), decodes
/// the chunked body and hands out what arrives as ``Part``s; ``close()`` drops the connection
/// the way a client that goes away does.
final class EventStreamClient: Sendable {
    enum Part: Sendable, Equatable {
        /// The status line and headers (names lower-cased).
        case head(status: Int, headers: [String: String])
        /// One SSE message: its `id:` and `data:`.
        case message(id: String?, data: String)
        /// An SSE comment line (`: heartbeat`), without the colon and space.
        case comment(String)
        /// A body that is not a stream (a problem), whole.
        case body(String)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The socket while it is open; the reader thread closes it and sets `nil` under the lock,
    /// so ``close()`` never shuts down a descriptor number the system has already handed to
    /// another connection.
    private let socket: Socket
    let parts: AsyncStream<Part>

    final class Socket: Sendable {
        let fd: Mutex<Int32?>
        init(_ fd: Int32) { self.fd = Mutex(fd) }
    }

    /// Connects to the server on loopback and sends `GET path` with `headers`.
    init(port: Int, path: String, headers: [String: String]) throws {
        var lastError: Int32 = 0
        var connected: Int32 = -1
        for family in [AF_INET, AF_INET6] {
            let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { continue }
            let result: Int32
            if family == AF_INET {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                result = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            } else {
                var address = sockaddr_in6()
                address.sin6_family = sa_family_t(AF_INET6)
                address.sin6_port = in_port_t(UInt16(port).bigEndian)
                address.sin6_addr = in6addr_loopback
                result = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                    }
                }
            }
            if result == 0 {
                connected = fd
                break
            }
            lastError = errno
            Glibc.close(fd)
        }
        guard connected >= 0 else { throw Failure(description: "cannot connect to port \(port): errno \(lastError)") }
        socket = Socket(connected)
        var request = "GET \(path) HTTP/1.1\r\nHost: localhost\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(connected, $0.baseAddress, $0.count, 0) }
            guard n > 0 else {
                Glibc.close(connected)
                throw Failure(description: "cannot send the request: errno \(errno)")
            }
            sent += n
        }
        let (parts, sink) = AsyncStream<Part>.makeStream()
        self.parts = parts
        let fd = connected
        let reader = Thread { [socket] in Self.read(fd, socket: socket, into: sink) }
        reader.start()
    }

    /// Drops the connection (the reader thread then ends and closes the socket).
    func close() {
        socket.fd.withLock { fd in
            if let fd { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    deinit { close() }

    // MARK: - Reading (on the reader thread)

    private static func read(_ fd: Int32, socket: Socket, into sink: AsyncStream<Part>.Continuation) {
        var decoder = Decoder()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            for part in decoder.feed(buffer[0..<n]) { sink.yield(part) }
            if decoder.done { break }
        }
        // Closed before the stream ends, so whoever awaited the end may open a new socket
        // without this thread closing its descriptor number afterwards.
        socket.fd.withLock { open in
            Glibc.close(fd)
            open = nil
        }
        for part in decoder.finish() { sink.yield(part) }
        sink.finish()
    }

    /// Response head, then a chunked SSE body or a sized body.
    struct Decoder {
        var pending: [UInt8] = []
        var headDone = false
        var chunked = false
        var contentLength: Int?
        var chunkRemaining: Int?
        var body: [UInt8] = []
        var sse: [UInt8] = []
        var done = false

        mutating func feed(_ bytes: ArraySlice<UInt8>) -> [Part] {
            pending += bytes
            var parts: [Part] = []
            if !headDone {
                guard let end = Self.find([13, 10, 13, 10], in: pending) else { return [] }
                let head = String(decoding: pending[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
                pending.removeFirst(end + 4)
                let status = Int(head.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
                var headers: [String: String] = [:]
                for line in head.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                        .trimmingCharacters(in: .whitespaces)
                }
                chunked = headers["transfer-encoding"]?.lowercased() == "chunked"
                contentLength = headers["content-length"].flatMap(Int.init)
                headDone = true
                parts.append(.head(status: status, headers: headers))
            }
            if chunked {
                while !done {
                    if let remaining = chunkRemaining {
                        if remaining == 0 {
                            // The CRLF after a chunk.
                            guard pending.count >= 2 else { break }
                            pending.removeFirst(2)
                            chunkRemaining = nil
                            continue
                        }
                        let take = min(remaining, pending.count)
                        guard take > 0 else { break }
                        sse += pending[0..<take]
                        pending.removeFirst(take)
                        chunkRemaining = remaining - take
                    } else {
                        guard let end = Self.find([13, 10], in: pending) else { break }
                        let size = Int(String(decoding: pending[0..<end], as: UTF8.self), radix: 16) ?? 0
                        pending.removeFirst(end + 2)
                        if size == 0 {
                            done = true
                        } else {
                            chunkRemaining = size
                        }
                    }
                }
                parts += messages()
            } else {
                body += pending
                pending = []
                if let contentLength, body.count >= contentLength {
                    done = true
                }
            }
            return parts
        }

        mutating func finish() -> [Part] {
            if headDone && !chunked { return [.body(String(decoding: body, as: UTF8.self))] }
            return []
        }

        /// The complete SSE events (blank-line terminated) received so far.
        mutating func messages() -> [Part] {
            var parts: [Part] = []
            while let end = Self.find([10, 10], in: sse) {
                let block = String(decoding: sse[0..<end], as: UTF8.self)
                sse.removeFirst(end + 2)
                var id: String?
                var data: [String] = []
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix(":") {
                        parts.append(.comment(String(line.dropFirst()).trimmingCharacters(in: .whitespaces)))
                    } else if line.hasPrefix("id: ") {
                        id = String(line.dropFirst(4))
                    } else if line.hasPrefix("data: ") {
                        data.append(String(line.dropFirst(6)))
                    }
                }
                if !data.isEmpty { parts.append(.message(id: id, data: data.joined(separator: "\n"))) }
            }
            return parts
        }

        static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
            guard haystack.count >= needle.count else { return nil }
            for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
                if Array(haystack[start..<start + needle.count]) == needle { return start }
            }
            return nil
        }
    }
}
