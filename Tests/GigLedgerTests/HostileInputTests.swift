import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import TestSupport
import Testing

/// Malformed and hostile commands: each gets a typed error with a message (or, if it happens to
/// be a valid command, succeeds), nothing crashes, and the log grows by exactly what succeeded.
@Suite("Hostile input")
struct HostileInputTests {
    static let hostileStrings: [JSONValue] = [
        "", " ", "'; DROP TABLE ledger.events; --", "\" OR 1=1 --", "$1", "\\x00", "\u{0}", "\u{7}\u{1b}[2J", "\n\t\r",
        "Zoë 👩🏽‍💻 日本語", "\u{202e}evil", .string(String(repeating: "x", count: 300_000)), "NaN", "-1", "1e309",
        "00000000-0000-0000-0000-000000000000", "not-a-uuid", "2026-13-45T99:99:99Z", "client:", "freelancer:xyz",
        "admin:", "system",
        .number(-1), .number(0), .number(1e300), .number(-9_223_372_036_854_775_808), .number(0.5), .bool(true), .null,
        .array([]), .array(["nlp", .number(3)]), .object([:]),
        .object(["currency": "XXX", "minorUnits": .number(100)]),
        .object(["currency": "EUR", "minorUnits": .number(-5)]),
        .object(["currency": "EUR", "minorUnits": .number(9e18)]),
        .object(["currency": "EUR", "amount": "12.345"]), .object(["currency": "eur", "amount": "1,00"]),
    ]
    static let fieldNames = [
        "command", "commandId", "actor", "occurredAt", "freelancerId", "clientId", "gigId", "bidId", "contractId",
        "deliveryId",
        "disputeId", "name", "country", "title", "description", "skills", "budgetMin", "budgetMax", "biddingClosesAt",
        "amount",
        "estimatedDays", "hourlyRate", "hoursPerWeek", "rating", "text", "reason", "resolution", "note", "artifacts",
        "paymentVerified",
    ]

    @Test func thousandsOfMalformedCommandsGetTypedErrorsAndChangeNothingElse() async throws {
        let pool = try await TestDatabase.fresh("hostile")
        let store = EventStore(pool: pool)
        let service = MarketplaceService(store: store, masterKey: .forTests)
        var random = SystemRandomNumberGenerator()
        var rejected = 0
        var appendedBySuccesses = 0
        let countBefore = try await pool.query("SELECT count(*) FROM ledger.events").scalar(Int.self)
        for round in 0..<3_000 {
            var fields: [String: JSONValue] = [:]
            fields["command"] =
                round % 5 == 0
                ? Self.hostileStrings.randomElement(using: &random)!
                : .string(CommandInput.commandNames.randomElement(using: &random)!)
            for _ in 0..<Int.random(in: 0...8, using: &random) {
                fields[Self.fieldNames.randomElement(using: &random)!] =
                    Bool.random(using: &random)
                    ? Self.hostileStrings.randomElement(using: &random)!
                    : .string(UUID().uuidString)
            }
            if Bool.random(using: &random) { fields["actor"] = .string("freelancer:\(UUID().uuidString.lowercased())") }
            do {
                let command = try CommandInput(fields: fields).command()
                let outcome = try await service.execute(command)
                appendedBySuccesses += outcome.events.count
            } catch {
                // (Copied out first: Swift 6.3.1 crashes compiling #expect over a `catch let … as` binding.)
                // Both calls throw CommandError (typed throws), so every failure here is typed.
                let message = error.message
                let code = error.stableCode
                let isInternal = error.code == .internalError
                rejected += 1
                #expect(!message.isEmpty)
                #expect(!isInternal, "\(code): \(message)")
                #expect(message.utf8.count < 2_000, "messages must not echo huge input")
            }
        }
        #expect(rejected > 2_500)
        let countAfter = try await pool.query("SELECT count(*) FROM ledger.events").scalar(Int.self)
        #expect(countAfter - countBefore == appendedBySuccesses)
    }

    @Test func malformedJSONBytesAreRefused() throws {
        var random = SystemRandomNumberGenerator()
        let seeds = [#"{"command":"PlaceBid"}"#, #"{"command":"PostGig","title":"x"}"#, "{}", "[]", "null", "\"x\""]
        for _ in 0..<2_000 {
            var bytes = Array(seeds.randomElement(using: &random)!.utf8)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let at = Int.random(in: 0..<max(1, bytes.count), using: &random)
                switch Int.random(in: 0...2, using: &random) {
                case 0 where !bytes.isEmpty: bytes.remove(at: at)
                case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: min(at, bytes.count))
                default: if !bytes.isEmpty { bytes[at] = UInt8.random(in: 0...255, using: &random) }
                }
            }
            do {
                _ = try CommandInput.parse(json: Data(bytes))
            } catch {
                let message = error.message
                #expect(!message.isEmpty)
            }
        }
    }
}
