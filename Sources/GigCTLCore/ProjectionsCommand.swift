import ArgumentParser
import EventStore
import Foundation
import Projections

struct ProjectionsGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections", abstract: "Run projectors and show how far behind the log they are.",
        subcommands: [ProjectionsStatus.self, ProjectionsRun.self, ProjectionsReset.self])
}

struct ProjectionsStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show each projector's checkpoint, the log's head, lag, state and last error.",
        discussion: """
            Lag is counted in events after the checkpoint and in seconds since the oldest of them \
            was recorded. A failed projector shows the event that stopped it (position, stream, \
            type): fix the cause, then `gigctl projections reset NAME` and run again; it resumes \
            at that event. The oldest open transaction on the server, if any, holds every \
            projector back and is shown too. Exits 1 if a projector has failed.
            """)
    @OptionGroup var global: GlobalOptions
    func run() async throws {
        try await runReportingErrors {
            let (statuses, log) = try await global.withPool(maxConnections: 2) { pool in
                let store = EventStore(pool: pool, logger: global.logger)
                let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all, logger: global.logger)
                return (try await engine.status(), try await store.status())
            }
            if global.json {
                struct Report: Encodable { let projections: [ProjectionStatus]; let oldestOpenTransaction: BlockingTransaction? }
                try Output.json(Report(projections: statuses, oldestOpenTransaction: log.oldestOpenTransaction))
            } else {
                Output.table(["NAME", "VERSION", "CHECKPOINT", "HEAD", "LAG EVENTS", "LAG S", "STATE", "LAST ERROR"], statuses.map {
                    [$0.name, String($0.version), String($0.checkpoint), String($0.head), String($0.lagEvents), String(format: "%.1f", $0.lagSeconds),
                     $0.state, $0.lastError.map { String($0.prefix(60)) } ?? "-"]
                })
                for status in statuses where status.state == "failed" {
                    Output.line("\(status.name) v\(status.version) stopped at event \(status.errorPosition ?? 0) (\(status.errorStream ?? "?"), \(status.errorType ?? "?")): \(status.lastError ?? "")")
                }
                if statuses.isEmpty { Output.line("No projector has run yet: gigctl projections run") }
                if let open = log.oldestOpenTransaction {
                    Output.line(String(format: "Oldest open transaction: pid %d, open %.1f s — projectors cannot pass what it may still commit.", open.pid, open.ageSeconds))
                }
            }
            if statuses.contains(where: { $0.state == "failed" }) { throw CLIError(.problemFound, "A projector has failed; see above.") }
        }
    }
}

struct ProjectionsRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Bring every projector up to the head of the log, and with --follow keep them there.",
        discussion: """
            Each projector applies the log in batches; a batch and the projector's checkpoint commit \
            together. Only one instance per projector applies batches (a lease in \
            ledger.projections): start a second daemon and it waits as a standby. With --follow it \
            runs until interrupted, woken by each append.
            """)
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Keep running and follow the log live.") var follow = false
    @Option(help: "Events per batch.") var batchSize: Int = 500
    func validate() throws { guard (1...100_000).contains(batchSize) else { throw ValidationError("--batch-size must be 1…100000.") } }
    func run() async throws {
        try await runReportingErrors {
            try await global.withPool(maxConnections: 3) { pool in
                let engine = ProjectionEngine(store: EventStore(pool: pool, logger: global.logger), projectors: ShippedProjectors.all,
                                              batchSize: batchSize, logger: global.logger)
                if follow {
                    try await engine.follow()
                } else {
                    try await engine.prepare()
                    let applied: [String: Int]
                    do {
                        applied = try await engine.catchUpAll()
                        try await engine.releaseLeases()
                    } catch {
                        try? await engine.releaseLeases()
                        throw error
                    }
                    let elsewhere = try await engine.leasedElsewhere()
                    if global.json { try Output.json(applied) } else {
                        for (name, count) in applied.sorted(by: { $0.key < $1.key }) {
                            Output.line("\(name): applied \(count) event(s)" + (elsewhere[name].map { " — another instance (\($0)) holds its lease and is running it" } ?? ""))
                        }
                    }
                }
            }
        }
    }
}

struct ProjectionsReset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset", abstract: "Clear a failed projector so it runs again from its checkpoint.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The projector's name.") var name: String
    @Option(help: "The projector's version.") var version: Int = 1
    func run() async throws {
        try await runReportingErrors {
            try await global.withPool(maxConnections: 1) { pool in
                try await ProjectionEngine(store: EventStore(pool: pool), projectors: []).reset(name, version: version)
            }
            Output.line("\(name) v\(version) reset; `gigctl projections run` resumes it at its checkpoint.")
        }
    }
}
