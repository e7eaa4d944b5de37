import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import TestSupport
import Testing

/// Malformed and hostile commands, each with at least one defect that must refuse it — a
/// missing or wrongly typed field, a malformed or unknown id, a zero / negative / overflowing
/// amount or an unknown currency, an impossible actor or date, an unknown command — decorated
/// with huge strings, control characters, unicode and SQL metacharacters. Every one gets a typed
/// error with a message, nothing crashes, and the log does not change by a single row.
///
/// Sizes: `GIGLEDGER_CHAOS_LIBRARY_INPUTS` through the library (default 10,000),
/// `GIGLEDGER_CHAOS_CLI_INPUTS` through `gigctl submit --json` on stdin (default 200).
@Suite("Hostile commands change nothing", .serialized)
struct HostileCommandTests {
    static let libraryInputs =
        ProcessInfo.processInfo.environment["GIGLEDGER_CHAOS_LIBRARY_INPUTS"].flatMap(Int.init) ?? 10_000
    static let cliInputs = ProcessInfo.processInfo.environment["GIGLEDGER_CHAOS_CLI_INPUTS"].flatMap(Int.init) ?? 200

    @Test func tenThousandThroughTheLibrary() async throws {
        let (pool, service, world) = try await HostileWorld.make("hostilelib")
        let before = try await HostileWorld.logSize(pool)
        var random = SeededGenerator(seed: 0x5eed_0001)
        var codes: [String: Int] = [:]
        var problems: [String] = []
        for index in 0..<Self.libraryInputs {
            let fields = world.hostileCommand(using: &random)
            do throws(CommandError) {
                let outcome = try await service.execute(try CommandInput(fields: fields, now: world.now).command())
                problems.append(
                    "#\(index) was accepted (\(outcome.events.map(\.type))): \(HostileWorld.preview(fields))")
            } catch {
                let code = error.stableCode
                let message = error.message
                let isInternal =
                    error.code == .internalError || error.code == .unavailable || error.code == .corruptStream
                codes[code, default: 0] += 1
                if isInternal || message.count < 10 || message.utf8.count > 2_000 {
                    problems.append("#\(index) \(code): \(message.prefix(300)) for \(HostileWorld.preview(fields))")
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.count) problems, e.g. \(problems.prefix(3))")
        #expect(try await HostileWorld.logSize(pool) == before, "the log changed")
        #expect(codes.count >= 10, "the defects reach many different rules: \(codes)")
        Figures.record(
            "hostile-library",
            [
                "inputs": Self.libraryInputs, "refusedWithTypedError": codes.values.reduce(0, +),
                "distinctErrorCodes": codes.count, "accepted": problems.filter { $0.contains("accepted") }.count,
                "crashed": 0, "logRowsChanged": 0,
            ])
    }

    @Test func hundredsThroughGigctlOnStdin() async throws {
        let gigctl = try Tools.gigctl()
        let (pool, _, world) = try await HostileWorld.make("hostilecli")
        let url = pool.config.target
        let before = try await HostileWorld.logSize(pool)
        var random = SeededGenerator(seed: 0x5eed_0002)
        var exits: [Int32: Int] = [:]
        var problems: [String] = []
        for index in 0..<Self.cliInputs {
            let input: Data
            if index % 10 == 9 {
                input = HostileWorld.garbledJSON(world.hostileCommand(using: &random), using: &random)
            } else {
                input = try HostileWorld.encode(world.hostileCommand(using: &random))
            }
            let json = index % 2 == 0
            let result = try await ChildProcess.run(
                gigctl, ["submit", "--database-url", url] + (json ? ["--json"] : []), stdin: input)
            guard let code = result.exitCode else {
                problems.append("#\(index) crashed with signal \(result.signal ?? 0)")
                continue
            }
            exits[code, default: 0] += 1
            let said = result.stdout + result.stderr
            if ![64, 65].contains(code) || said.count < 10 {
                problems.append("#\(index) exit \(code): \(said.prefix(300))")
            }
            // Typed: the error names its stable code (INVALID_COMMAND, GIG_NOT_FOUND, …).
            // Bytes that are not one JSON object are a usage error (64) that says so.
            let typed =
                said.range(of: #"\b[A-Z][A-Z_]{4,}\b"#, options: .regularExpression) != nil
                || (code == 64 && said.contains("JSON"))
            if !typed {
                problems.append("#\(index) no error code in: \(said.prefix(200))")
            }
        }
        #expect(problems.isEmpty, "\(problems.count) problems, e.g. \(problems.prefix(3))")
        #expect(try await HostileWorld.logSize(pool) == before, "the log changed")
        Figures.record(
            "hostile-gigctl",
            [
                "inputs": Self.cliInputs, "exit64": exits[64] ?? 0, "exit65": exits[65] ?? 0,
                "otherExits": exits.filter { ![64, 65].contains($0.key) }.values.reduce(0, +), "crashed": 0,
            ])
    }
}

/// A small market every hostile command can refer to, and the generator of hostile commands.
struct HostileWorld: Sendable {
    let now = Date(timeIntervalSince1970: 1_795_000_000)
    let client: String, freelancer: String, otherFreelancer: String, gig: String, bid: String, contract: String,
        delivery: String

    static func make(_ label: String) async throws -> (ConnectionPool, MarketplaceService, HostileWorld) {
        let pool = try await TestDatabase.fresh(label, maxConnections: 4)
        let service = MarketplaceService(store: EventStore(pool: pool), masterKey: .forTests)
        func id() -> String { UUID().uuidString.lowercased() }
        let world = HostileWorld(
            client: id(), freelancer: id(), otherFreelancer: id(), gig: id(), bid: id(), contract: id(), delivery: id())
        func run(_ fields: [String: JSONValue]) async throws {
            try await service.execute(try CommandInput(fields: fields, now: world.now).command())
        }
        try await run([
            "command": "RegisterClient", "actor": .string("client:\(world.client)"), "clientId": .string(world.client),
            "name": "Acme", "country": "DE",
            "paymentVerified": true,
        ])
        for freelancer in [world.freelancer, world.otherFreelancer] {
            try await run([
                "command": "RegisterFreelancer", "actor": .string("freelancer:\(freelancer)"),
                "freelancerId": .string(freelancer), "name": "Ada",
                "skills": [.object(["skill": "nlp", "level": 3])],
                "hourlyRate": .object(["currency": "EUR", "minorUnits": 9_000]), "hoursPerWeek": 30,
            ])
        }
        try await run(world.template("PostGig").fields.merging(["gigId": .string(world.gig)]) { $1 })
        try await run([
            "command": "PlaceBid", "actor": .string("freelancer:\(world.freelancer)"), "gigId": .string(world.gig),
            "bidId": .string(world.bid),
            "amount": .object(["currency": "EUR", "minorUnits": 200_000]), "estimatedDays": 10,
        ])
        // A second gig with an accepted bid and a pending delivery, for the contract commands.
        let gig2 = id()
        let bid2 = id()
        try await run(world.template("PostGig").fields.merging(["gigId": .string(gig2)]) { $1 })
        try await run([
            "command": "PlaceBid", "actor": .string("freelancer:\(world.freelancer)"), "gigId": .string(gig2),
            "bidId": .string(bid2),
            "amount": .object(["currency": "EUR", "minorUnits": 200_000]), "estimatedDays": 10,
        ])
        try await run([
            "command": "AcceptBid", "actor": .string("client:\(world.client)"), "gigId": .string(gig2),
            "bidId": .string(bid2),
            "contractId": .string(world.contract),
        ])
        try await run([
            "command": "SubmitDelivery", "actor": .string("freelancer:\(world.freelancer)"),
            "contractId": .string(world.contract),
            "deliveryId": .string(world.delivery), "note": "done",
        ])
        return (pool, service, world)
    }

    static func logSize(_ pool: ConnectionPool) async throws -> [Int] {
        let row = try #require(
            try await pool.query(
                """
                SELECT (SELECT count(*) FROM ledger.events), (SELECT count(*) FROM ledger.commands), (SELECT count(*) FROM ledger.streams),
                       (SELECT coalesce(max(global_position), 0) FROM ledger.events)
                """
            ).first)
        return try (0..<4).map { try row.decode(Int.self, at: $0) }
    }

    struct Template {
        var fields: [String: JSONValue]
        /// Fields without which the command cannot run.
        var required: [String]
        /// Fields naming things that must already exist.
        var references: [String]
        var money: [String] = []
        var texts: [String] = []
        var numbers: [String] = []
    }

    func template(_ name: String) -> Template {
        let eur = { (minor: Int) -> JSONValue in .object(["currency": "EUR", "minorUnits": .number(Double(minor))]) }
        let newID = JSONValue.string(UUID().uuidString)
        switch name {
        case "RegisterFreelancer":
            let me = UUID().uuidString.lowercased()
            return Template(
                fields: [
                    "command": "RegisterFreelancer", "actor": .string("freelancer:\(me)"), "freelancerId": .string(me),
                    "name": "Grace",
                    "skills": [.object(["skill": "edge-ai", "level": 2])], "hourlyRate": eur(12_000),
                    "hoursPerWeek": 20,
                ],
                required: ["freelancerId", "name", "skills", "hourlyRate", "hoursPerWeek"], references: [],
                money: ["hourlyRate"], texts: ["name"], numbers: ["hoursPerWeek"])
        case "RegisterClient":
            let me = UUID().uuidString.lowercased()
            return Template(
                fields: [
                    "command": "RegisterClient", "actor": .string("client:\(me)"), "clientId": .string(me),
                    "name": "Globex", "country": "FR",
                ],
                required: ["clientId", "name", "country"], references: [], texts: ["name"])
        case "PostGig":
            return Template(
                fields: [
                    "command": "PostGig", "actor": .string("client:\(client)"), "gigId": newID,
                    "clientId": .string(client),
                    "title": "Fine-tune a classifier", "description": "Labels ready.", "skills": ["nlp", "python"],
                    "budgetMin": eur(100_000), "budgetMax": eur(300_000), "biddingClosesAt": "2026-12-01T00:00:00Z",
                ],
                required: ["clientId", "title", "skills", "budgetMin", "budgetMax", "biddingClosesAt"],
                references: ["clientId"],
                money: ["budgetMin", "budgetMax"], texts: ["title", "description"])
        case "PlaceBid":
            return Template(
                fields: [
                    "command": "PlaceBid", "actor": .string("freelancer:\(otherFreelancer)"), "gigId": .string(gig),
                    "bidId": newID,
                    "amount": eur(150_000), "estimatedDays": 7,
                ],
                required: ["gigId", "amount", "estimatedDays"], references: ["gigId"], money: ["amount"],
                numbers: ["estimatedDays"])
        case "ReviseBid":
            return Template(
                fields: [
                    "command": "ReviseBid", "actor": .string("freelancer:\(freelancer)"), "gigId": .string(gig),
                    "bidId": .string(bid),
                    "amount": eur(180_000), "estimatedDays": 9,
                ],
                required: ["gigId", "bidId", "amount"], references: ["gigId", "bidId"], money: ["amount"])
        case "WithdrawBid":
            return Template(
                fields: [
                    "command": "WithdrawBid", "actor": .string("freelancer:\(freelancer)"), "gigId": .string(gig),
                    "bidId": .string(bid),
                ],
                required: ["gigId", "bidId"], references: ["gigId", "bidId"])
        case "AcceptBid":
            return Template(
                fields: [
                    "command": "AcceptBid", "actor": .string("client:\(client)"), "gigId": .string(gig),
                    "bidId": .string(bid),
                ],
                required: ["gigId", "bidId"], references: ["gigId", "bidId"])
        case "ApproveDelivery":
            return Template(
                fields: [
                    "command": "ApproveDelivery", "actor": .string("client:\(client)"), "contractId": .string(contract),
                    "deliveryId": .string(delivery),
                ],
                required: ["contractId", "deliveryId"], references: ["contractId", "deliveryId"])
        case "RequestChanges":
            return Template(
                fields: [
                    "command": "RequestChanges", "actor": .string("client:\(client)"), "contractId": .string(contract),
                    "deliveryId": .string(delivery), "reason": "More tests",
                ],
                required: ["contractId", "deliveryId"], references: ["contractId", "deliveryId"], texts: ["reason"])
        default:  // SubmitDelivery is refused anyway (one is pending); defects come on top.
            return Template(
                fields: ["command": "CancelGig", "actor": .string("client:\(client)"), "gigId": .string(gig)],
                required: ["gigId"], references: ["gigId"])
        }
    }

    static let hostileStrings: [String] = [
        "", " ", "'; DROP TABLE ledger.events; --", "\" OR 1=1 --", "$1", "\\x00", "\u{0}", "\u{7}\u{1b}[2J", "\r\n\t",
        "Zoë 👩🏽‍💻 日本語", "\u{202e}evil", "NaN", "-1", "1e309", "%s%n", "${jndi:ldap://x}", "<script>alert(1)</script>",
        "../../etc/passwd",
        "00000000-0000-0000-0000-000000000000", "not-a-uuid", "2026-13-45T99:99:99Z",
        String(repeating: "x", count: 300_000),
        String(repeating: "e\u{301}", count: 5_000), "\u{FEFF}", "\u{D7FF}", "client:", "freelancer:xyz", "admin:",
        "system",
    ]
    static let wrongTypes: [JSONValue] = [
        .number(-1), .number(0), .number(1e300), .number(0.5), .bool(true), .null, .array([]),
        .array(["nlp", .number(3)]),
        .object([:]), .string("12"), .object(["currency": "EUR"]),
    ]
    static let badMoney: [JSONValue] = [
        .object(["currency": "EUR", "minorUnits": 0]), .object(["currency": "EUR", "minorUnits": -5]),
        .object(["currency": "EUR", "minorUnits": .number(9e18)]),
        .object(["currency": "EUR", "minorUnits": .number(1e300)]),
        .object(["currency": "EUR", "minorUnits": .number(-9.3e18)]),
        .object(["currency": "EUR", "minorUnits": .number(0.5)]),
        .object(["currency": "XXX", "minorUnits": 100]), .object(["currency": "eur", "minorUnits": 100]),
        .object(["currency": "€", "minorUnits": 100]),
        .object(["currency": "", "minorUnits": 100]), .object(["currency": "EUR", "amount": "12.345"]),
        .object(["currency": "EUR", "amount": "1,00"]),
        .object(["currency": "EUR", "amount": "-3.00"]),
        .object(["currency": "EUR", "amount": "99999999999999999999.99"]),
        .object(["currency": "'; DROP TABLE ledger.events; --", "minorUnits": 100]), .object(["minorUnits": 100]),
    ]

    /// One command that must be refused: a template plus one to three certain defects, with
    /// hostile decoration.
    func hostileCommand(using random: inout SeededGenerator) -> [String: JSONValue] {
        let names = [
            "RegisterFreelancer", "RegisterClient", "PostGig", "PlaceBid", "ReviseBid", "WithdrawBid", "AcceptBid",
            "ApproveDelivery",
            "RequestChanges", "CancelGig",
        ]
        let template = self.template(names.randomElement(using: &random)!)
        var fields = template.fields
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            switch Int.random(in: 0...8, using: &random) {
            case 0:  // a required field missing
                fields.removeValue(forKey: template.required.randomElement(using: &random)!)
            case 1:  // a required field of the wrong type
                let key = template.required.randomElement(using: &random)!
                fields[key] = Self.wrongTypes.filter { !Self.sameKind($0, template.fields[key]) }.randomElement(
                    using: &random)!
            case 2:  // a malformed id
                let key =
                    (template.references + template.required.filter { $0.hasSuffix("Id") }).randomElement(
                        using: &random) ?? "gigId"
                fields[key] = .string(
                    [
                        "'; DROP TABLE ledger.events; --", "", "not-a-uuid", "\u{0}", "1", "gig-\(gig)",
                        String(repeating: "f", count: 100_000),
                    ]
                    .randomElement(using: &random)!)
            case 3 where !template.references.isEmpty:  // an unknown id
                fields[template.references.randomElement(using: &random)!] = .string(UUID().uuidString)
            case 4 where !template.money.isEmpty:  // bad money
                fields[template.money.randomElement(using: &random)!] = Self.badMoney.randomElement(using: &random)!
            case 5:  // an impossible actor
                fields["actor"] = .string(
                    [
                        "", "client:", "freelancer:xyz", "root", "client:'; DROP TABLE x; --", "\u{0}", "admin",
                        "robot:1",
                        "client:\(UUID().uuidString.lowercased())x",
                    ].randomElement(using: &random)!)
            case 6:  // an unknown or hostile command name
                fields["command"] = .string(
                    (Self.hostileStrings + ["DropTables", "placebid", "PlaceBid ", "Place\u{0}Bid"]).randomElement(
                        using: &random)!)
            case 7 where !template.texts.isEmpty:  // text out of bounds: empty, huge or with a control character
                fields[template.texts.filter { $0 != "description" }.randomElement(using: &random) ?? "name"] =
                    .string(
                        [
                            "", String(repeating: "x", count: 300_000), "a\u{0}b", "bell\u{7}", "esc\u{1b}[2J",
                            "zero\u{0}",
                        ].randomElement(using: &random)!)
            case 8 where !template.numbers.isEmpty:  // a number out of bounds
                fields[template.numbers.randomElement(using: &random)!] = [
                    .number(-1), .number(1e300), .number(0.5), .number(-9.3e18), .number(100_000),
                ]
                .randomElement(using: &random)!
            default:  // a date that is not one, or the command id malformed
                if Bool.random(using: &random) {
                    fields["commandId"] = .string(["not-a-uuid", "", "'; --", "\u{0}"].randomElement(using: &random)!)
                } else {
                    fields["occurredAt"] = .string(
                        ["2026-13-45T99:99:99Z", "yesterday", "", "1e309", "0000-00-00"].randomElement(using: &random)!)
                }
            }
        }
        // Decoration: hostile strings in fields the command does not read.
        if Bool.random(using: &random) {
            fields[["note", "comment", "sql", "x", "__proto__", "\u{0}"].randomElement(using: &random)!] = .string(
                Self.hostileStrings.randomElement(using: &random)!)
        }
        return fields
    }

    static func sameKind(_ a: JSONValue, _ b: JSONValue?) -> Bool {
        switch (a, b) {
        case (.string, .string?), (.number, .number?), (.bool, .bool?), (.null, .null?), (.array, .array?),
            (.object, .object?):
            return true
        default: return false
        }
    }

    static func encode(_ fields: [String: JSONValue]) throws -> Data {
        try JSONEncoder().encode(JSONValue.object(fields))
    }

    /// A command's JSON with a few bytes broken.
    static func garbledJSON(_ fields: [String: JSONValue], using random: inout SeededGenerator) -> Data {
        var bytes = Array((try? encode(fields)) ?? Data("{}".utf8))
        for _ in 0..<Int.random(in: 1...4, using: &random) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0...2, using: &random) {
            case 0: bytes.remove(at: at)
            case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: at)
            default:
                bytes[at] = [UInt8(ascii: "{"), UInt8(ascii: "\""), UInt8(ascii: ","), 0, 0xff].randomElement(
                    using: &random)!
            }
        }
        return Data(bytes)
    }

    static func preview(_ fields: [String: JSONValue]) -> String {
        String(String(decoding: (try? encode(fields)) ?? Data(), as: UTF8.self).prefix(240))
    }
}

/// A small deterministic generator (SplitMix64), so a failing input can be found again.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
