import Foundation
import HummingbirdTesting
import Server
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A slow client cannot hold a connection: the idle timeout is also the header read timeout (a
/// connection is idle until a whole request head has arrived), so half a request is cut off.
/// Driven with a raw socket, since an HTTP client always sends whole requests.
@Suite("Connection limits")
struct ConnectionLimitTests {
    @Test("half a request head, half a body, or nothing at all: the server closes the connection")
    func slowClientsAreCutOff() async throws {
        var limits = ServerHarness.testLimits
        limits.idleTimeout = .seconds(1)
        try await ServerHarness.withServer("server_conn_limits", limits: limits) { client in
            let port = try #require(client.http.port)
            let cases: [(String, String)] = [
                ("half a head", "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: appl"),
                (
                    "half a body",
                    "POST /v1/commands HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"command\":"
                ),
                ("nothing", ""),
            ]
            for (name, request) in cases {
                let outcome = try await RawSocket.sendThenReadToEnd(port: port, Array(request.utf8))
                #expect(
                    outcome.closedByServer,
                    "\(name): the server kept the connection open for \(outcome.elapsed) (read errno \(outcome.readError))"
                )
                #expect(!outcome.received.starts(with: Array("HTTP/1.1 200".utf8)), "\(name)")
            }
            // A whole request is answered; the connection left idle after it is closed too.
            let whole = try await RawSocket.sendThenReadToEnd(
                port: port, Array("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
            #expect(String(decoding: whole.received, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
            #expect(whole.closedByServer)
        }
    }
}

/// A loopback TCP client on a thread of its own (its calls block; never on the cooperative pool).
enum RawSocket {
    struct Outcome: Sendable {
        let received: [UInt8]
        /// The server closed the connection (rather than the client giving up after `giveUp`).
        let closedByServer: Bool
        /// From the connect to the close (or to giving up), timed on the socket's own thread.
        var elapsed: Duration = .zero
        /// `errno` of the read that ended it without a close from the server (0 otherwise).
        var readError: Int32 = 0
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Connects to 127.0.0.1:`port`, sends `bytes`, then reads until the server closes the
    /// connection or `giveUp` seconds pass without it (which a test reports as a failure).
    static func sendThenReadToEnd(port: Int, _ bytes: [UInt8], giveUp: Int = 30) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                let start = ContinuousClock.now
                continuation.resume(
                    with: Result {
                        var outcome = try run(port: port, bytes, giveUp: giveUp)
                        outcome.elapsed = ContinuousClock.now - start
                        return outcome
                    })
            }
            thread.start()
        }
    }

    private static func run(port: Int, _ bytes: [UInt8], giveUp: Int) throws -> Outcome {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed: \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: giveUp, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure(description: "connect() failed: \(errno)") }
        if !bytes.isEmpty {
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent == bytes.count else { throw Failure(description: "send() sent \(sent) of \(bytes.count)") }
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += buffer[0..<count]
            } else if count == 0 {
                return Outcome(received: received, closedByServer: true)
            } else if errno == EINTR {
                continue
            } else if errno == ECONNRESET {
                return Outcome(received: received, closedByServer: true)
            } else {
                return Outcome(received: received, closedByServer: false, readError: errno)
            }
        }
    }
}
