import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The halves of `scripts/bench-http` that are not wrk: the library baseline of the commands wrk
/// sends over HTTP, and the event-stream fan-out (SSE subscribers while commands run).
enum HTTPBench {
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))]
    }

    /// A `RegisterClient` by an admin with a fresh id: the command `scripts/bench-http` sends
    /// with wrk (same JSON, same actor), so the two sides do the same work.
    static func registerClient() -> [String: JSONValue] {
        [
            "command": "RegisterClient", "actor": "admin:bench", "clientId": .string(UUID().uuidString.lowercased()),
            "name": "Bench client", "country": "DE",
        ]
    }

    /// `gigbench http-baseline`: `RegisterClient` through `MarketplaceService` on `clients`
    /// concurrent tasks for `seconds`; prints commands/s and latency percentiles (ms) as
    /// `key=value` pairs on one line.
    static func baseline(config: ConnectionConfig, clients: Int, poolSize: Int, seconds: Double) async throws {
        let pool = ConnectionPool(config: config, maxConnections: poolSize)
        defer { Task { await pool.close() } }
        let service = MarketplaceService(store: EventStore(pool: pool), masterKey: try MasterKey.configured())
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        let start = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var mine: [Double] = []
                    while ContinuousClock.now < deadline {
                        let began = ContinuousClock.now
                        _ = try await service.execute(try CommandInput(fields: registerClient()).command())
                        mine.append(millis(began.duration(to: .now)))
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }.sorted()
        let elapsed = millis(start.duration(to: .now)) / 1000
        print(
            String(
                format: "clients=%d rate=%.1f p50_ms=%.2f p99_ms=%.2f commands=%d", clients,
                Double(latencies.count) / elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99),
                latencies.count))
    }

    static func millis(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    /// `gigbench sse`: `subscribers` SSE clients follow `/v1/events` from the head while
    /// `RegisterClient` commands run through the library at `rate` per second for `seconds`;
    /// each client measures, per event, receipt time − the event's `recordedAt` (the append's
    /// transaction time). Prints latency percentiles, events delivered and the server's RSS
    /// before, at each quarter of the commands sent, and after.
    static func sse(
        config: ConnectionConfig, port: Int, token: String, subscribers: Int, rate: Int, seconds: Double,
        serverPID: Int32?
    ) async throws {
        let pool = ConnectionPool(config: config, maxConnections: 16)
        defer { Task { await pool.close() } }
        let store = EventStore(pool: pool)
        let service = MarketplaceService(store: store, masterKey: try MasterKey.configured())
        let head = try await store.headCheckpoint()
        let rssBefore = serverPID.flatMap(rss)
        let clients = try (0..<subscribers).map { _ in
            try Subscriber(port: port, path: "/v1/events?after=\(head.token)", token: token)
        }
        // Every subscriber has its response head: the streams are open.
        let opened = ContinuousClock.now
        while clients.contains(where: { !$0.isOpen }) {
            guard opened.duration(to: .now) < .seconds(30) else {
                throw BenchError("only \(clients.filter(\.isOpen).count) of \(subscribers) streams opened")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let total = Int(Double(rate) * seconds)
        let interval = Duration.nanoseconds(1_000_000_000 / max(1, rate))
        let began = ContinuousClock.now
        // The server's RSS at each quarter of the run too: flat, or growing with the events sent?
        var rssDuring: [Int] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for n in 0..<total {
                if n > 0 && n % max(1, total / 4) == 0 && rssDuring.count < 3, let pid = serverPID, let now = rss(pid) {
                    rssDuring.append(now)
                }
                let due = began.advanced(by: interval * n)
                if due > .now { try await Task.sleep(until: due, clock: .continuous) }
                if inFlight >= 64 {
                    try await group.next()
                    inFlight -= 1
                }
                group.addTask {
                    _ = try await service.execute(try CommandInput(fields: registerClient()).command())
                }
                inFlight += 1
            }
            try await group.waitForAll()
        }
        let sendSeconds = millis(began.duration(to: .now)) / 1000
        let waiting = ContinuousClock.now
        while clients.contains(where: { $0.received < total }) && waiting.duration(to: .now) < .seconds(60) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let rssAfter = serverPID.flatMap(rss)
        let latencies = clients.flatMap(\.latencies).sorted()
        let complete = clients.filter { $0.received >= total }.count
        for client in clients { client.close() }
        print(
            String(
                format:
                    "subscribers=%d commands=%d command_rate=%.1f complete_subscribers=%d deliveries=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f rss_before_mb=%.1f rss_after_mb=%.1f",
                subscribers, total, Double(total) / sendSeconds, complete, latencies.count,
                percentile(latencies, 0.5), percentile(latencies, 0.99), latencies.last ?? .nan,
                Double(rssBefore ?? 0) / 1024, Double(rssAfter ?? 0) / 1024)
                + " rss_during_mb=" + rssDuring.map { String(format: "%.1f", Double($0) / 1024) }.joined(separator: "/")
        )
    }

    /// The resident set of a process, in KiB.
    static func rss(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    struct BenchError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// One SSE client on a thread of its own: counts events and measures each one's latency
    /// from its `recordedAt` (the stream's chunks hold whole events, so scanning the raw bytes
    /// for the field is exact; a carry-over covers a field split between two reads).
    final class Subscriber: Sendable {
        private let socket: Int32
        private struct State {
            var open = false
            var received = 0
            var latencies: [Double] = []
        }
        private let state = Mutex(State())

        var isOpen: Bool { state.withLock { $0.open } }
        var received: Int { state.withLock { $0.received } }
        var latencies: [Double] { state.withLock { $0.latencies } }

        init(port: Int, path: String, token: String) throws {
            let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard fd >= 0, result == 0 else { throw BenchError("cannot connect to port \(port): errno \(errno)") }
            socket = fd
            let request = Array(
                "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer \(token)\r\n\r\n"
                    .utf8)
            _ = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            let thread = Thread { [self] in self.read() }
            thread.start()
        }

        func close() { Glibc.shutdown(socket, Int32(SHUT_RDWR)) }

        private static let marker = Array(#""recordedAt":""#.utf8)

        private func read() {
            var buffer = [UInt8](repeating: 0, count: 256 * 1024)
            var carry: [UInt8] = []
            var headSeen = false
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.recv(socket, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                let now = Date().timeIntervalSince1970
                var bytes = carry
                bytes += buffer[0..<n]
                if !headSeen, bytes.count >= 12 {
                    headSeen = true
                    state.withLock { $0.open = true }
                }
                var found: [Double] = []
                var index = 0
                var consumedUpTo = 0
                let limit = bytes.count - Self.marker.count - 24
                while index <= limit {
                    if bytes[index] == Self.marker[0] && Array(bytes[index..<index + Self.marker.count]) == Self.marker
                    {
                        let start = index + Self.marker.count
                        if let recorded = Self.parseTime(bytes[start..<start + 24]) {
                            found.append((now - recorded) * 1000)
                        }
                        index = start + 24
                        consumedUpTo = index
                    } else {
                        index += 1
                    }
                }
                carry = Array(bytes[max(consumedUpTo, bytes.count - Self.marker.count - 24)...])
                if !found.isEmpty {
                    state.withLock {
                        $0.received += found.count
                        $0.latencies += found
                    }
                }
            }
            Glibc.close(socket)
        }

        /// `2026-11-28T01:20:33.123Z` as seconds since 1970.
        static func parseTime(_ text: ArraySlice<UInt8>) -> Double? {
            let digits = Array(text)
            func number(_ from: Int, _ count: Int) -> Int? {
                var value = 0
                for i in from..<from + count {
                    let d = Int(digits[i]) - 48
                    guard (0...9).contains(d) else { return nil }
                    value = value * 10 + d
                }
                return value
            }
            guard digits.count == 24, let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
                let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
                let millis = number(20, 3)
            else { return nil }
            var parts = tm()
            parts.tm_year = Int32(year - 1900)
            parts.tm_mon = Int32(month - 1)
            parts.tm_mday = Int32(day)
            parts.tm_hour = Int32(hour)
            parts.tm_min = Int32(minute)
            parts.tm_sec = Int32(second)
            return Double(timegm(&parts)) + Double(millis) / 1000
        }
    }
}
