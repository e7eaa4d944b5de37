import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ

// gigbench: append throughput of the event log against a raw INSERT baseline, measured in one run
// on one database with the same payloads, durability settings and concurrency.
// Run with scripts/bench (release build). Prints a Markdown table.

struct Options {
    var seconds = 6.0
    var rounds = 2
    var url: String?
    var events = [1, 10]
    var connections = [1, 8]
    var hotGig = true
    var group = true
    var callers = [8, 64]
    var groupsInFlight = AppendGrouping().maxGroupsInFlight
    static func parse() -> Options {
        var options = Options()
        var args = CommandLine.arguments.dropFirst()
        while let arg = args.popFirst() {
            switch arg {
            case "--seconds": options.seconds = Double(args.popFirst() ?? "") ?? options.seconds
            case "--rounds": options.rounds = Int(args.popFirst() ?? "") ?? options.rounds
            case "--database-url": options.url = args.popFirst()
            case "--events": options.events = (args.popFirst() ?? "").split(separator: ",").compactMap { Int($0) }
            case "--connections":
                options.connections = (args.popFirst() ?? "").split(separator: ",").compactMap { Int($0) }
            case "--no-hot-gig": options.hotGig = false
            case "--no-group": options.group = false
            case "--callers": options.callers = (args.popFirst() ?? "").split(separator: ",").compactMap { Int($0) }
            case "--groups-in-flight": options.groupsInFlight = Int(args.popFirst() ?? "") ?? options.groupsInFlight
            default:
                FileHandle.standardError.write(Data("unknown argument \(arg); see --help\n".utf8))
                exit(64)
            }
        }
        return options
    }

    /// What `--help` prints, for every subcommand.
    static func printUsage() {
        print(
            "usage: gigbench [--seconds S] [--rounds N] [--events 1,10] [--connections 1,8] [--no-hot-gig]\n"
                + "                [--no-group] [--callers 8,64] [--groups-in-flight N] [--database-url URL]\n"
                + "       gigbench projections [--freelancers N] [--gigs N] [--rate R] [--seconds S] [--reuse] [--database NAME (a market already built, e.g. scripts/bench-scale's)]\n"
                + "       gigbench rebuild [--database NAME] [--batch-size N]   (engine rebuild of all projections vs COPY; a log of gigctl simulate --scale large)\n"
                + "       gigbench partitions [--seconds S] [--writers N] [--partition-size N] [--rounds N] [--database-url URL]   (appends and gap-safe reads, partitioned vs unpartitioned log)\n"
                + "       gigbench scale --source EXPORT.ndjson [--database NAME] [--sizes 1000000,10000000 | head] [--fresh] [--no-rebuild] [--twins] [--queries N] [--query-seconds S] [--seconds S] [--rounds N] [--database-url URL]   (scripts/bench-scale: one log grown to each size, every rate beside its baseline)\n"
                + "       gigbench apply [--batches 2000,5000] [--database-url URL]   (each projector applied from zero, on a log already there)\n"
                + "       gigbench http-baseline [--clients N] [--pool-size N] [--seconds S] [--database-url URL]   (scripts/bench-http: the library side of the HTTP command figures)\n"
                + "       gigbench sse --port P --token T [--subscribers N] [--rate R] [--seconds S] [--server-pid PID] [--database-url URL]   (scripts/bench-http: SSE fan-out latency)\n"
                + "       gigbench privacy [--seconds S] [--writers N] [--rounds R]   (commands and projections with personal fields sealed vs plaintext)\n"
                + "Measures appends/s of EventStore.append against pgbench -M prepared of the same ledger.append call\n"
                + "and of a raw INSERT, side by side; group append from many callers; then bids on one hot gig against 8 gigs."
        )
    }
}

// `--help` anywhere, before any subcommand connects to a database.
if CommandLine.arguments.dropFirst().contains(where: { $0 == "-h" || $0 == "--help" }) {
    Options.printUsage()
    exit(0)
}

/// A ~300-byte event payload, like a BidPlaced.
func payload(_ i: Int) -> PGJSON {
    PGJSON(
        text:
            #"{"bidId":"\#(UUID().uuidString.lowercased())","gigId":"6f1c0e4e-7a55-4c1b-9d7e-1b2c3d4e5f60","freelancerId":"0b8f2d7c-1e3a-4b5c-8d9e-0f1a2b3c4d5e","amount":{"currency":"EUR","minorUnits":\#(45_000 + i % 977)},"estimatedDays":\#(1 + i % 30),"note":"I have shipped three NLP pipelines like this one."}"#
    )
}

/// Runs `work` on `writers` concurrent tasks for `seconds`; returns operations per second.
func measure(writers: Int, seconds: Double, _ work: @escaping @Sendable (Int, Int) async throws -> Void) async throws
    -> Double
{
    let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
    let start = ContinuousClock.now
    let total = try await withThrowingTaskGroup(of: Int.self) { group in
        for writer in 0..<writers {
            group.addTask {
                var n = 0
                while ContinuousClock.now < deadline {
                    try await work(writer, n)
                    n += 1
                }
                return n
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = start.duration(to: .now)
    return Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

if CommandLine.arguments.dropFirst().first == "apply" {
    let args = Array(CommandLine.arguments.dropFirst(2))
    let batches =
        args.firstIndex(of: "--batches").flatMap { args.indices.contains($0 + 1) ? args[$0 + 1] : nil }?
        .split(separator: ",").compactMap { Int($0) } ?? [2_000, 5_000]
    let url = args.firstIndex(of: "--database-url").flatMap { args.indices.contains($0 + 1) ? args[$0 + 1] : nil }
    var config = ConnectionConfig.resolve(url, applicationName: "gigbench")
    config.sessionSettings = [("synchronous_commit", "on")]
    try await ProjectorApplyBench.run(config: config, batches: batches)
    exit(0)
}

if CommandLine.arguments.dropFirst().first == "projections" {
    let args = Array(CommandLine.arguments.dropFirst(2))
    func value(_ flag: String, _ fallback: Int) -> Int {
        args.firstIndex(of: flag).flatMap { args.indices.contains($0 + 1) ? Int(args[$0 + 1]) : nil } ?? fallback
    }
    var config = ConnectionConfig.resolve(nil, applicationName: "gigbench")
    config.sessionSettings = [("synchronous_commit", "on")]
    do {
        try await ProjectionBench.run(
            config: config, freelancers: value("--freelancers", 100_000), gigs: value("--gigs", 10_000),
            rate: value("--rate", 500), seconds: value("--seconds", 20),
            reuse: args.contains("--reuse") || args.contains("--database"),
            database: args.firstIndex(of: "--database").flatMap { args.indices.contains($0 + 1) ? args[$0 + 1] : nil }
                ?? "gigledger_bench_projections")
    } catch {
        FileHandle.standardError.write(Data("gigbench projections: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}

if CommandLine.arguments.dropFirst().first == "privacy" {
    let args = Array(CommandLine.arguments.dropFirst(2))
    func value(_ flag: String) -> String? {
        args.firstIndex(of: flag).flatMap { args.indices.contains($0 + 1) ? args[$0 + 1] : nil }
    }
    var config = ConnectionConfig.resolve(nil, applicationName: "gigbench")
    config.sessionSettings = [("synchronous_commit", "on")]
    try await PrivacyBench.run(
        config: config, seconds: Double(value("--seconds") ?? "") ?? 6, writers: Int(value("--writers") ?? "") ?? 4,
        rounds: Int(value("--rounds") ?? "") ?? 3)
    exit(0)
}

if ["http-baseline", "sse"].contains(CommandLine.arguments.dropFirst().first) {
    let args = Array(CommandLine.arguments.dropFirst(2))
    func value(_ flag: String) -> String? {
        args.firstIndex(of: flag).flatMap { args.indices.contains($0 + 1) ? args[$0 + 1] : nil }
    }
    var config = ConnectionConfig.resolve(value("--database-url"), applicationName: "gigbench")
    config.sessionSettings = [("synchronous_commit", "on")]
    do {
        if CommandLine.arguments[1] == "http-baseline" {
            try await HTTPBench.baseline(
                config: config, clients: Int(value("--clients") ?? "") ?? 8,
                poolSize: Int(value("--pool-size") ?? "") ?? 16, seconds: Double(value("--seconds") ?? "") ?? 10)
        } else {
            guard let port = value("--port").flatMap(Int.init), let token = value("--token") else {
                throw HTTPBench.BenchError("gigbench sse needs --port and --token")
            }
            try await HTTPBench.sse(
                config: config, port: port, token: token, subscribers: Int(value("--subscribers") ?? "") ?? 100,
                rate: Int(value("--rate") ?? "") ?? 500, seconds: Double(value("--seconds") ?? "") ?? 20,
                serverPID: value("--server-pid").flatMap(Int32.init))
        }
    } catch {
        FileHandle.standardError.write(Data("gigbench \(CommandLine.arguments[1]): \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}

if CommandLine.arguments.dropFirst().first == "scale" {
    let args = Array(CommandLine.arguments.dropFirst(2))
    func value(_ flag: String) -> String? {
        args.firstIndex(of: flag).flatMap { args.indices.contains($0 + 1) ? args[$0 + 1] : nil }
    }
    var config = ConnectionConfig.resolve(value("--database-url"), applicationName: "gigbench")
    config.sessionSettings = [("synchronous_commit", "on")]
    do {
        guard let source = value("--source") else {
            throw BenchError("gigbench scale needs --source FILE (a `gigctl export` of a simulated market)")
        }
        try await ScaleBench.run(
            config: config, database: value("--database") ?? "gigledger_scale", source: source,
            // `--sizes head`: measure the database as it is, without growing it.
            sizes: (value("--sizes") ?? "1000000,10000000").split(separator: ",").compactMap {
                $0 == "head" ? 0 : Int($0)
            },
            seconds: Double(value("--seconds") ?? "") ?? 5, rounds: Int(value("--rounds") ?? "") ?? 2,
            rebuild: !args.contains("--no-rebuild"), fresh: args.contains("--fresh") && value("--sizes") != "head",
            twins: args.contains("--twins"), queries: Int(value("--queries") ?? "") ?? 200,
            querySeconds: Double(value("--query-seconds") ?? "") ?? 60)
    } catch {
        FileHandle.standardError.write(Data("gigbench scale: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}

if CommandLine.arguments.dropFirst().first == "partitions" {
    let args = Array(CommandLine.arguments.dropFirst(2))
    func value(_ flag: String) -> String? {
        args.firstIndex(of: flag).flatMap { args.indices.contains($0 + 1) ? args[$0 + 1] : nil }
    }
    var config = ConnectionConfig.resolve(value("--database-url"), applicationName: "gigbench")
    config.sessionSettings = [("synchronous_commit", "on")]
    do {
        try await PartitionBench.run(
            config: config, seconds: Double(value("--seconds") ?? "") ?? 6, writers: Int(value("--writers") ?? "") ?? 8,
            partitionSize: Int64(value("--partition-size") ?? "") ?? 10_000, rounds: Int(value("--rounds") ?? "") ?? 3)
    } catch {
        FileHandle.standardError.write(Data("gigbench partitions: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}

if CommandLine.arguments.dropFirst().first == "rebuild" {
    let args = Array(CommandLine.arguments.dropFirst(2))
    func value(_ flag: String) -> String? {
        args.firstIndex(of: flag).flatMap { args.indices.contains($0 + 1) ? args[$0 + 1] : nil }
    }
    var config = ConnectionConfig.resolve(nil, applicationName: "gigbench")
    config.sessionSettings = [("synchronous_commit", "on")]
    do {
        try await RebuildBench.run(
            config: config, database: value("--database") ?? "gigledger_large",
            batchSize: Int(value("--batch-size") ?? "") ?? 2000, folding: !args.contains("--no-fold"),
            grow: value("--source").map { ($0, Int(value("--events") ?? "") ?? 1_360_000) })
    } catch {
        FileHandle.standardError.write(Data("gigbench rebuild: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}

let options = Options.parse()
var base = ConnectionConfig.resolve(options.url, applicationName: "gigbench")
// Durable commits, whatever the server default: this is what an append costs.
base.sessionSettings = [("synchronous_commit", "on")]
let admin = try await Connection.connect(base.withDatabase("postgres"))
let fsync = try await admin.query("SELECT current_setting('fsync')").scalar(String.self)
let version = try await admin.query("SELECT current_setting('server_version')").scalar(String.self)
try await admin.execute("DROP DATABASE IF EXISTS gigledger_bench WITH (FORCE)")
try await admin.execute("CREATE DATABASE gigledger_bench")
await admin.close()
let config = base.withDatabase("gigledger_bench")
let pool = ConnectionPool(config: config, maxConnections: 8)
_ = try await pool.withConnection { try await Migrator().migrate(on: $0) }
try await pool.query(
    """
    CREATE TABLE bench_raw (
        id bigserial PRIMARY KEY, stream_id text NOT NULL, event_type text NOT NULL,
        data jsonb NOT NULL, metadata jsonb NOT NULL, occurred_at timestamptz NOT NULL)
    """)
let store = EventStore(pool: pool)

/// Per writer one stream per case, appended with exact expected versions (no conflicts), as the
/// pgbench baseline does with its `\gset` version.
actor Versions {
    var versions: [String: Int64] = [:]
    func next(_ stream: String, by count: Int) -> Int64 {
        let current = versions[stream, default: 0]
        versions[stream] = current + Int64(count)
        return current
    }
}
let versions = Versions()

func logAppend(_ writer: Int, _ n: Int, events: Int, round: Int, store: EventStore = store) async throws {
    let stream = try StreamName(validating: "bid-w\(writer)e\(events)r\(round)")
    let current = await versions.next(stream.rawValue, by: events)
    let batch = (0..<events).map { NewEvent(type: "BidPlaced", data: payload(n * events + $0), occurredAt: Date()) }
    try await store.append(
        batch, to: stream, expecting: current == 0 ? .noStream : .exactly(current),
        metadata: EventMetadata(actor: "freelancer:bench", commandId: UUID()))
}

FileHandle.standardError.write(
    Data(
        "PostgreSQL \(version), fsync=\(fsync), synchronous_commit=on; \(options.rounds) round(s) of \(options.seconds) s per side\n"
            .utf8))
print("Load average at the start: \(loadAverage())")
print("")
print(
    "| events per append | connections | raw INSERT (pgbench) appends/s | `ledger.append` (pgbench) appends/s "
        + "| `EventStore.append` appends/s | EventStore events/s | function ÷ raw | EventStore ÷ pgbench |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
let seconds = max(1, Int(options.seconds.rounded()))
var round = 0
for events in options.events {
    for writers in options.connections {
        var raw: [Double] = []
        var function: [Double] = []
        var log: [Double] = []
        // Alternate the three sides so drift on a noisy machine hits them alike.
        for _ in 0..<options.rounds {
            round += 1
            raw.append(
                try Pgbench.run(
                    script: Pgbench.rawScript(events: events), clients: writers, seconds: seconds,
                    target: config.target))
            function.append(
                try Pgbench.run(
                    script: Pgbench.appendScript(events: events, tag: "r\(round)"), clients: writers,
                    seconds: seconds, target: config.target, defines: ["version=0"]))
            let thisRound = round
            log.append(
                try await measure(writers: writers, seconds: Double(seconds)) {
                    try await logAppend($0, $1, events: events, round: thisRound)
                })
        }
        let r = raw.reduce(0, +) / Double(raw.count)
        let f = function.reduce(0, +) / Double(function.count)
        let l = log.reduce(0, +) / Double(log.count)
        print(
            String(
                format: "| %d | %d | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f |", events, writers, r, f, l,
                l * Double(events), f / r, l / f))
    }
}
print("")

// MARK: - Group append (issue 14): 1-event appends from many concurrent callers on a store that
// coalesces them, against the raw INSERT baseline with 8 connections (pgbench) in the same run.
if options.group {
    let grouped = EventStore(pool: pool, grouping: AppendGrouping(maxGroupsInFlight: options.groupsInFlight))
    print(
        "Group append: at most \(grouped.grouping?.maxCommands ?? 0) commands per group, \(options.groupsInFlight) groups in flight."
    )
    print("")
    print(
        "| group append, 1 event per command | callers | raw INSERT (pgbench, 8 connections) appends/s "
            + "| `EventStore.append`, no grouping, appends/s | grouped appends/s | grouped ÷ raw |")
    print("|---|---:|---:|---:|---:|---:|")
    for callers in options.callers {
        var raw: [Double] = []
        var alone: [Double] = []
        var together: [Double] = []
        for _ in 0..<options.rounds {
            round += 1
            raw.append(
                try Pgbench.run(
                    script: Pgbench.rawScript(events: 1), clients: 8, seconds: seconds, target: config.target))
            let thisRound = round
            alone.append(
                try await measure(writers: callers, seconds: Double(seconds)) {
                    try await logAppend($0, $1, events: 1, round: thisRound, store: store)
                })
            round += 1
            let groupRound = round
            together.append(
                try await measure(writers: callers, seconds: Double(seconds)) {
                    try await logAppend($0, $1, events: 1, round: groupRound, store: grouped)
                })
        }
        let r = raw.reduce(0, +) / Double(raw.count)
        let a = alone.reduce(0, +) / Double(alone.count)
        let g = together.reduce(0, +) / Double(together.count)
        print(String(format: "| | %d | %.0f | %.0f | %.0f | %.2f |", callers, r, a, g, g / r))
    }
    print("")
}
print("Load average at the end: \(loadAverage())")
if !options.hotGig {
    await pool.close()
    exit(0)
}
// MARK: - Bids on a hot gig (issue 4): 8 writers on one gig against 8 writers on 8 gigs.

let service = MarketplaceService(store: store, masterKey: try MasterKey.configured())
let bidsPerWriter = Int(options.seconds * 60)
func runCommand(_ fields: [String: JSONValue]) async throws -> CommandOutcome {
    try await service.execute(try CommandInput(fields: fields).command())
}
let clientID = UUID().uuidString.lowercased()
_ = try await runCommand([
    "command": "RegisterClient", "actor": .string("client:\(clientID)"), "clientId": .string(clientID),
    "name": "Bench client", "country": "DE", "paymentVerified": true,
])
func postGig() async throws -> String {
    let gig = UUID().uuidString.lowercased()
    _ = try await runCommand([
        "command": "PostGig", "actor": .string("client:\(clientID)"), "clientId": .string(clientID),
        "gigId": .string(gig),
        "title": "Label images", "skills": ["data-labeling"],
        "budgetMin": ["currency": "EUR", "minorUnits": 50_000], "budgetMax": ["currency": "EUR", "minorUnits": 90_000],
        "biddingClosesAt": .string(ISO8601DateFormatter().string(from: Date().addingTimeInterval(30 * 86_400))),
    ])
    return gig
}
// One freelancer per bid (one live bid per freelancer per gig), registered up front.
let freelancers: [[String]] = (0..<8).map { _ in (0..<bidsPerWriter).map { _ in UUID().uuidString.lowercased() } }
try await withThrowingTaskGroup(of: Void.self) { group in
    for writer in 0..<8 {
        let mine = freelancers[writer]
        group.addTask {
            for id in mine {
                _ = try await runCommand([
                    "command": "RegisterFreelancer", "actor": .string("freelancer:\(id)"), "freelancerId": .string(id),
                    "name": "Bench", "skills": [["skill": "data-labeling", "level": 2]],
                    "hourlyRate": ["currency": "EUR", "minorUnits": 4_000], "hoursPerWeek": 20,
                ])
            }
        }
    }
    try await group.waitForAll()
}

/// Places `bidsPerWriter` bids per writer; writer w bids on gigs[w % gigs.count]. Returns bids/s and retries.
func bidRun(gigs: [String], freelancers: [[String]]) async throws -> (rate: Double, retries: Int, maxAttempts: Int) {
    let start = ContinuousClock.now
    let outcomes = try await withThrowingTaskGroup(of: [Int].self) { group in
        for writer in 0..<8 {
            let gig = gigs[writer % gigs.count]
            let mine = freelancers[writer]
            group.addTask {
                var attempts: [Int] = []
                for (n, freelancer) in mine.enumerated() {
                    let outcome = try await runCommand([
                        "command": "PlaceBid", "actor": .string("freelancer:\(freelancer)"), "gigId": .string(gig),
                        "amount": ["currency": "EUR", "minorUnits": .number(Double(60_000 + n))], "estimatedDays": 5,
                    ])
                    attempts.append(outcome.attempts)
                }
                return attempts
            }
        }
        return try await group.reduce(into: [Int]()) { $0 += $1 }
    }
    let elapsed = start.duration(to: .now)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return (Double(outcomes.count) / seconds, outcomes.reduce(0) { $0 + $1 - 1 }, outcomes.max() ?? 0)
}

let hot = try await bidRun(gigs: [try await postGig()], freelancers: freelancers)
var spread: [String] = []
for _ in 0..<8 { spread.append(try await postGig()) }
let cold = try await bidRun(gigs: spread, freelancers: freelancers)
print("")
print(
    "| PlaceBid, 8 writers, \(8 * bidsPerWriter) bids | bids/s | retries (re-decides) | retries per bid | most attempts for one bid |"
)
print("|---|---:|---:|---:|---:|")
print(
    String(
        format: "| all on one gig | %.0f | %d | %.2f | %d |", hot.rate, hot.retries,
        Double(hot.retries) / Double(8 * bidsPerWriter), hot.maxAttempts))
print(
    String(
        format: "| on 8 gigs | %.0f | %d | %.2f | %d |", cold.rate, cold.retries,
        Double(cold.retries) / Double(8 * bidsPerWriter), cold.maxAttempts))
print(String(format: "| one gig ÷ 8 gigs | %.2f | | | |", hot.rate / cold.rate))

await pool.close()
