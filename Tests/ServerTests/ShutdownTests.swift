import EventStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PQ
import Server
import ServiceLifecycle
import TestSupport
import Testing

@Suite("Graceful shutdown")
struct ShutdownTests {
    @Test("a graceful shutdown in the middle of a stream of commands loses none that was acknowledged")
    func noAcknowledgedCommandLost() async throws {
        let database = try await TestDatabase.pool(for: "server_shutdown", maxConnections: 2)
        var logger = Logger(label: "gigledger.server.test")
        logger.logLevel = .warning
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        var configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, database: database.config, poolSize: 4, tokenKeys: [ServerHarness.key],
            logger: logger)
        configuration.onListening = { port in portSink.yield(port) }
        let built = try await buildApplication(configuration: configuration)
        let group = ServiceGroup(configuration: .init(services: [built.application], logger: logger))
        let authority = built.parts.authority
        let acknowledged = try await withThrowingTaskGroup(of: [UUID].self) { tasks in
            tasks.addTask {
                try await group.run()
                return []
            }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let client = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(10)))
            client.connect()
            var acknowledged: [UUID] = []
            for index in 0..<200 {
                if index == 20 { await group.triggerGracefulShutdown() }
                let id = UUID()
                let token = try await authority.issue(for: Principal(subject: "client:\(id.wire)"), ttl: .seconds(60))
                let body = try JSONEncoder().encode(JSONValue.object(Commands.registerClient(id)))
                do {
                    let response = try await client.post(
                        "/v1/commands",
                        headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                        body: ByteBuffer(bytes: body))
                    if response.status == .created { acknowledged.append(id) }
                } catch {
                    break  // the server has closed the connection
                }
            }
            try? await client.shutdown()
            _ = try await tasks.next()
            return acknowledged
        }
        #expect(acknowledged.count >= 20)
        let store = EventStore(pool: database)
        for id in acknowledged {
            let stream = try StreamName(validating: "client-\(id.wire)")
            #expect(try await store.streamVersion(stream) == 1, "acknowledged RegisterClient \(id) is not in the log")
        }
    }
}
