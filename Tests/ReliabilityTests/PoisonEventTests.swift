import EventStore
import Foundation
import GigLedger
import PQ
import TestSupport
import Testing

/// A malformed event and an unknown one placed in the log (the log is immutable, so they stay):
/// the malformed event stops only the projector that reads its type, status shows where, the
/// unknown type is passed over by every projector; `gigctl projections reset` resumes at the
/// event — which stops it again (never a silent skip) — and `gigctl projections skip`, a decision
/// on the record, lets it run on.
@Suite("Poison events in the log")
struct PoisonEventTests {
    @Test func aMalformedEventStopsOnlyItsProjectorAndStatusShowsWhere() async throws {
        let gigctl = try Tools.gigctl()
        let (pool, _, world) = try await HostileWorld.make("poison")
        let url = pool.config.target
        let store = EventStore(pool: pool)
        let freelancer = try StreamName(validating: "freelancer-\(world.freelancer)")
        // RateChanged is read by matching only; this one has no rate. AlienLanded is read by none.
        let malformed = try await store.append(
            [NewEvent(type: "RateChanged", data: PGJSON(text: #"{"freelancerId": 42, "hourlyRate": "cheap"}"#))],
            to: freelancer, expecting: .any, metadata: EventMetadata(actor: "admin:ops", commandId: UUID()))
        try await store.append(
            [NewEvent(type: "AlienLanded", data: PGJSON(text: #"{"'; DROP TABLE x; --": "\u0007?"}"#))],
            to: freelancer, expecting: .any, metadata: EventMetadata(actor: "admin:ops", commandId: UUID()))
        let poisonPosition = try #require(malformed.events.first?.position)

        func run() async throws -> (code: Int32?, status: [[String: Any]]) {
            let result = try await ChildProcess.run(gigctl, ["projections", "run", "--database-url", url])
            let status = try await ChildProcess.run(gigctl, ["projections", "status", "--json", "--database-url", url])
            let parsed = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8))
            let rows =
                (parsed as? [[String: Any]]) ?? ((parsed as? [String: Any])?["projections"] as? [[String: Any]] ?? [])
            return (result.exitCode, rows)
        }
        var outcome = try await run()
        _ = try await eventually { () async throws -> Bool? in
            outcome = try await run()
            let caughtUp = outcome.status.filter { ($0["name"] as? String) != "matching" }.allSatisfy {
                ($0["lagEvents"] as? Int) == 0
            }
            return caughtUp && !outcome.status.isEmpty ? true : nil
        }
        // `gigctl projections run` exits 1 when a projector has stopped; status says where.
        #expect(outcome.code == 1)
        let matching = try #require(outcome.status.first { ($0["name"] as? String) == "matching" })
        #expect(matching["state"] as? String == "failed")
        #expect((matching["errorPosition"] as? Int).map(Int64.init) == poisonPosition)
        #expect(matching["errorType"] as? String == "RateChanged")
        #expect(matching["errorStream"] as? String == freelancer.rawValue)
        #expect(!((matching["lastError"] as? String) ?? "").isEmpty)
        for other in outcome.status where (other["name"] as? String) != "matching" {
            #expect(other["state"] as? String == "running", "\(other["name"] ?? "?") passed both events")
        }
        // Reset alone resumes at the same event and stops there again: nothing is skipped silently.
        let version = String((matching["version"] as? Int) ?? 1)
        let reset = try await ChildProcess.run(
            gigctl, ["projections", "reset", "matching", "--version", version, "--database-url", url])
        #expect(reset.exitCode == 0, "\(reset.stderr)")
        let again = try await run()
        let stillStopped = try #require(again.status.first { ($0["name"] as? String) == "matching" })
        #expect(stillStopped["state"] as? String == "failed")
        #expect((stillStopped["errorPosition"] as? Int).map(Int64.init) == poisonPosition)
        // The documented resolution for an event no version should handle: skip it on the record.
        let skip = try await ChildProcess.run(
            gigctl,
            [
                "projections", "skip", "matching", "--version", version, "--position", String(poisonPosition),
                "--reason", "malformed RateChanged written by hand (test)", "--database-url", url,
            ])
        #expect(skip.exitCode == 0, "\(skip.stdout)\(skip.stderr)")
        _ = try? await ChildProcess.run(
            gigctl, ["projections", "reset", "matching", "--version", version, "--database-url", url])
        let resumed = try await run()
        #expect(resumed.code == 0)
        let running = try #require(resumed.status.first { ($0["name"] as? String) == "matching" })
        #expect(running["state"] as? String == "running", "\(running)")
        #expect(running["lagEvents"] as? Int == 0)
        #expect(try await Tools.checkpointViolations(url).filter { !$0.hasPrefix("matching|") } == [])
    }
}
