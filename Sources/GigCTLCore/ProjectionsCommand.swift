import ArgumentParser
import EventStore
import Foundation
import Projections
import Server

struct ProjectionsGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections",
        abstract: "Run, rebuild and verify projectors, and show how far behind the log they are.",
        discussion: """
            Projections (read models) are folds of the log into tables in the read_models schema. \
            Names: competition_gigs, competition_skills, price_trends, matching, timers.

            Examples:
              gigctl projections status                  what each projector has done, and its lag
              gigctl projections run --follow            the daemon: keep every read model fresh
              gigctl projections rebuild --all           rebuild from position 0 beside the live tables, then swap
              gigctl projections verify                  rebuild into a scratch schema and compare (exit 1 on a difference)
            """,
        subcommands: [
            ProjectionsStatus.self, ProjectionsRun.self, ProjectionsRebuild.self, ProjectionsVerify.self,
            ProjectionsReset.self, ProjectionsSkip.self,
        ])
}

struct ProjectionsStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show each projector's checkpoint, the log's head, lag, state and last error.",
        discussion: """
            Lag is counted in events after the checkpoint and in seconds since the oldest of them \
            was recorded. A failed projector shows the event that stopped it (position, stream, \
            type). To resolve it: if the projector is wrong, deploy the fixed version, then \
            `gigctl projections reset NAME` and run again (it resumes at that event); if the event \
            is one no version should handle (malformed, misplaced), record the decision with \
            `gigctl projections skip NAME --position P --reason "..."`. The oldest open transaction on the server, if any, holds every \
            projector back and is shown too. Exits 1 if a projector has failed.
            """)
    @OptionGroup var global: GlobalOptions
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let report = try await global.withReadPool(maxConnections: 2) {
                try await ProjectionMonitor(pool: $0).report()
            }
            let statuses = report.projections
            if global.json {
                try Output.json(report)
            } else {
                Output.table(
                    ["NAME", "VERSION", "CHECKPOINT", "HEAD", "LAG EVENTS", "LAG S", "STATE", "LAST ERROR"],
                    statuses.map {
                        [
                            $0.name, String($0.version), String($0.checkpoint), String($0.head), String($0.lagEvents),
                            String(format: "%.1f", $0.lagSeconds),
                            $0.state, $0.lastError.map { String($0.prefix(60)) } ?? "-",
                        ]
                    })
                for status in statuses where status.state == "failed" {
                    Output.line(
                        "\(status.name) v\(status.version) stopped at event \(status.errorPosition ?? 0) (\(status.errorStream ?? "?"), \(status.errorType ?? "?")): \(status.lastError ?? "")"
                    )
                }
                if statuses.isEmpty { Output.line("No projector has run yet: gigctl projections run") }
                for build in report.builds {
                    Output.line(
                        "\(build.purpose.rawValue) of \(build.name) v\(build.version) in progress or interrupted: \(build.eventsApplied) events applied "
                            + "(position \(build.position)) in schema \(build.schema), last batch \(Output.timestamp(build.updatedAt)). "
                            + (build.purpose == .rebuild
                                ? "`gigctl projections rebuild \(build.name)` resumes it; --abandon drops it."
                                : "The next verify starts it over."))
                }
                if let open = report.oldestOpenTransaction {
                    Output.line(
                        String(
                            format:
                                "Oldest open transaction: pid %d (%@, %@), open %.1f s — projectors cannot pass what it may still commit. "
                                + "If it is stuck: SELECT pg_terminate_backend(%d);",
                            open.pid, open.applicationName ?? "?", open.state ?? "?", open.ageSeconds, open.pid))
                } else {
                    Output.line("No open transaction is holding projectors back.")
                }
            }
            if report.anyFailed {
                throw CLIError(.problemFound, "A projector has failed; see above.")
            }
        }
    }
}

struct ProjectionsRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Bring every projector up to the head of the log, and with --follow keep them there.",
        discussion: """
            Each projector applies the log in batches; a batch and the projector's checkpoint commit \
            together. Only one instance per projector applies batches (a lease in \
            ledger.projections): start a second daemon and it waits as a standby. With --follow it \
            runs until interrupted, woken by each append, and makes partitions of the log ahead \
            of need at start and hourly (`gigctl log partitions prepare`).

            Its commits are asynchronous (synchronous_commit = off, for its own sessions only): \
            read models are derived, and a batch and its checkpoint are one transaction, so a \
            server crash can only lose the last moments of batches together with their \
            checkpoints, which are then applied again — never a checkpoint ahead of its data. \
            This keeps lag low; --durable-commits waits for each flush instead.
            """)
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Keep running and follow the log live.") var follow = false
    @Flag(help: "Wait for each batch's WAL flush (slower; see above).") var durableCommits = false
    @Option(help: "Events per batch.") var batchSize: Int = 500
    @Option(
        help: ArgumentHelp(
            "With --follow, serve /metrics (projector lag), /health/live and /health/ready on this port.",
            valueName: "port"))
    var metricsPort: Int?
    @Option(help: ArgumentHelp("The address --metrics-port binds.", valueName: "address"))
    var metricsBind = "127.0.0.1"
    func validate() throws {
        guard (1...100_000).contains(batchSize) else { throw ValidationError("--batch-size must be 1…100000.") }
        if let metricsPort {
            guard follow else { throw ValidationError("--metrics-port needs --follow (a one-off run ends at once).") }
            guard (1...65_535).contains(metricsPort) else { throw ValidationError("--metrics-port must be 1…65535.") }
        }
    }
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let poolSize = metricsPort == nil ? 3 : 4
            try await global.withPool(
                maxConnections: poolSize, sessionSettings: durableCommits ? [] : [("synchronous_commit", "off")]
            ) { pool in
                let engine = ProjectionEngine(
                    store: EventStore(pool: pool, logger: global.logger), projectors: ShippedProjectors.all,
                    batchSize: batchSize, logger: global.logger)
                if follow {
                    let operations = metricsPort.map { port in
                        buildOperationsApplication(
                            configuration: OperationsConfiguration(
                                host: metricsBind, port: port, pool: pool, poolSize: poolSize, logger: global.logger))
                    }
                    let store = EventStore(pool: pool, logger: global.logger)
                    // Whichever ends first (the daemon failing, or the server) ends the others;
                    // the partition keeper ends only when cancelled.
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await engine.follow() }
                        group.addTask { try await store.keepPartitionsAhead() }
                        if let operations { group.addTask { try await operations.runService() } }
                        defer { group.cancelAll() }
                        _ = try await group.next()
                    }
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
                    if global.json {
                        try Output.json(applied)
                    } else {
                        for (name, count) in applied.sorted(by: { $0.key < $1.key }) {
                            Output.line(
                                "\(name): applied \(count) event(s)"
                                    + (elsewhere[name].map {
                                        " — another instance (\($0)) holds its lease and is running it"
                                    } ?? ""))
                        }
                    }
                    let failed = try await engine.status().filter { status in
                        status.state == "failed"
                            && ShippedProjectors.all.contains { $0.name == status.name && $0.version == status.version }
                    }
                    if let first = failed.first {
                        throw CLIError(
                            .problemFound,
                            "\(failed.map(\.name).joined(separator: ", ")) stopped: \(first.name) v\(first.version) at event \(first.errorPosition ?? 0) "
                                + "(\(first.errorStream ?? "?"), \(first.errorType ?? "?")): \(first.lastError ?? ""). See `gigctl projections status --help` for how to resolve it."
                        )
                    }
                }
            }
        }
    }
}

struct ProjectionsSkip: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skip", abstract: "Record that a projection skips one event it cannot handle, and let it run on.",
        discussion: """
            The log cannot be changed, so an event that stops a projector and that no version of \
            it should handle (malformed data, an unknown type in the wrong stream) is resolved by \
            a decision on the record: this projection skips the event at POSITION. The decision \
            (who, when, why) is kept in ledger.projection_skips and honoured by live runs, \
            rebuilds, verify and replay, so a rebuild still equals the live tables. If the \
            projector had stopped at that event it is cleared and resumes on the next run.

            If instead the projector is at fault, fix and deploy it and use `projections reset`.

            Example:
              gigctl projections skip price_trends --position 81234 --reason "test event written by hand in INC-42"
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The projection's name.") var name: String
    @Option(help: "The projection's version.") var version: Int = 1
    @Option(help: "The log position of the event to skip.") var position: Int64
    @Option(help: "Why (kept on the record).") var reason: String
    func validate() throws {
        guard position >= 1 else { throw ValidationError("--position must be a log position (1 or more).") }
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("--reason must say why.")
        }
    }
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            try await global.withPool(maxConnections: 1) { pool in
                try await ProjectionEngine(store: EventStore(pool: pool), projectors: []).skip(
                    name, version: version, position: position, reason: reason)
            }
            Output.line(
                "\(name) v\(version) skips event \(position) (recorded). `gigctl projections run` goes on past it.")
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
        try await runReportingErrors(json: global.json) {
            try await global.withPool(maxConnections: 1) { pool in
                try await ProjectionEngine(store: EventStore(pool: pool), projectors: []).reset(name, version: version)
            }
            Output.line("\(name) v\(version) reset; `gigctl projections run` resumes it at its checkpoint.")
        }
    }
}

/// Picks the projectors a rebuild or verify works on: the named ones, or all.
func chooseProjectors(_ names: [String], all: Bool, engine: ProjectionEngine) throws -> [any Projector] {
    if all || names.isEmpty { return engine.projectors }
    return try names.map { try engine.projector(named: $0) }
}

extension ProgressPrinter {
    func show(_ progress: BuildProgress) {
        let before = progress.eventsDone - progress.eventsThisRun
        show(
            "\(progress.purpose.rawValue) \(progress.projector)", done: progress.eventsThisRun,
            of: max(0, progress.eventsTotal - before),
            events: progress.eventsThisRun, elapsed: progress.elapsedSeconds)
    }
}

struct ProjectionsRebuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Rebuild projections from position 0 beside the live tables, then swap them in atomically.",
        discussion: """
            Builds the projections' tables from the start of the log into shadow schemas \
            (gigledger_build_rebuild_NAME_vN) while the live tables keep serving readers and the \
            daemon keeps them fresh. Each projection is first folded inside PostgreSQL: set-based \
            SQL over all of its events at once, two projections at a time; the events appended \
            meanwhile are then applied in batches, reading the log once for all of them \
            (--no-fold builds everything in batches, through the same code the daemon runs; \
            `gigctl projections verify` always does, so it checks the one against the other). A \
            projection whose fold meets data it cannot read is built in batches instead, which name \
            the event. Then, in one \
            transaction, applies the last few events, swaps every shadow table in and moves the \
            checkpoints. Readers see the old models or the new ones, never an empty or half-built \
            one (a reader may wait a moment for the swap; the swap yields to long readers and \
            tries again).

            An interrupted rebuild (Ctrl-C, crash) keeps its shadow tables and checkpoint: run the \
            same command again and it resumes; --restart starts over; --abandon drops it. \
            Progress (events, events/s, ETA) goes to stderr: a bar on a terminal, lines otherwise.

            After partitions were archived (`gigctl log partitions archive`), --archive FILE \
            reads each archive back: checked against its recorded SHA-256 and event count, \
            attached to the log for the rebuild with its events' original order, and detached \
            again afterwards. Without it a rebuild starts at the oldest event still in the log.

            Examples:
              gigctl projections rebuild --all
              gigctl projections rebuild --all --archive archive/events_1.ndjson
              gigctl projections rebuild matching --batch-size 2000
              gigctl projections rebuild matching --abandon
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Projections to rebuild (default: all).") var names: [String] = []
    @Flag(help: "Rebuild every projection.") var all = false
    @Flag(help: "Drop an interrupted rebuild and start from position 0.") var restart = false
    @Flag(help: "Drop an interrupted rebuild's shadow tables and stop.") var abandon = false
    @Option(help: "Events per batch.") var batchSize: Int = 2000
    @Flag(name: .customLong("no-fold"), help: "Build in batches only, without folding inside PostgreSQL first.")
    var noFold = false
    @Option(
        help: ArgumentHelp(
            "Read this archived partition back into the log for the rebuild (repeatable; see `gigctl log partitions`).",
            valueName: "file"))
    var archive: [String] = []
    @Flag(help: "Rebuild from the log as it stands, without the archived partitions not given with --archive.")
    var skipArchived = false
    func validate() throws {
        guard (1...100_000).contains(batchSize) else { throw ValidationError("--batch-size must be 1…100000.") }
        guard !(restart && abandon) else { throw ValidationError("--restart and --abandon exclude each other.") }
        guard archive.isEmpty || !abandon else { throw ValidationError("--archive and --abandon exclude each other.") }
    }
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            try await global.withPool(maxConnections: 2) { pool in
                let engine = ProjectionEngine(
                    store: EventStore(pool: pool, logger: global.logger), projectors: ShippedProjectors.all,
                    batchSize: batchSize, logger: global.logger)
                let chosen = try chooseProjectors(names, all: all, engine: engine)
                if abandon {
                    for projector in chosen {
                        let dropped = try await engine.abandonBuild(projector, .rebuild)
                        if !global.json {
                            Output.line(
                                "\(projector.name): " + (dropped ? "interrupted rebuild dropped" : "no rebuild to drop")
                            )
                        }
                    }
                    return
                }
                let printer = ProgressPrinter(terminal: isatty(STDERR_FILENO) == 1, quiet: global.json)
                let reports: [RebuildReport]
                do {
                    reports = try await withArchives(
                        archive, skipMissing: skipArchived, store: EventStore(pool: pool, logger: global.logger)
                    ) {
                        try await engine.rebuild(chosen, restart: restart, folding: !noFold) { printer.show($0) }
                    }
                } catch let failure as ProjectionFailure {
                    printer.finish()
                    throw CLIError(
                        .problemFound,
                        "\(failure) The live tables were not touched; the rebuild resumes at that event once fixed.")
                }
                printer.finish()
                if !global.json {
                    for report in reports {
                        Output.line(
                            String(
                                format: "%@ v%d rebuilt: %lld events%@%@, swapped in at position %lld.",
                                report.projector, report.version, report.eventsApplied,
                                report.resumed ? " (resumed; \(report.eventsThisRun) this run)" : "",
                                report.eventsFolded > 0 ? " (\(report.eventsFolded) folded in PostgreSQL)" : "",
                                report.position))
                    }
                    if let first = reports.first {
                        Output.line(
                            String(
                                format:
                                    "Rebuilt %d projection(s): %lld events in %.1f s (%.0f events/s); all swapped in one transaction.",
                                reports.count, first.eventsThisRun, first.seconds, first.eventsPerSecond))
                    }
                }
                if global.json { try Output.json(reports) }
            }
        }
    }
}

struct ProjectionsVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Rebuild projections into a scratch schema and compare them with the live tables.",
        discussion: """
            For each projection: builds its tables from position 0 up to the live checkpoint in a \
            scratch schema (gigledger_build_verify_NAME_vN), compares every table row for row \
            with the live one at the same checkpoint, prints the rows found on only one side, and \
            drops the scratch schema. The daemon keeps running meanwhile.

            Exits 0 when every projection matches, 1 when any differs (the differing rows are \
            printed: `live` rows are in the live table only, `rebuilt` rows only in the rebuild). \
            A difference means the live tables were changed outside the projector or the \
            projector is not deterministic: `gigctl projections rebuild NAME` replaces them. \
            After partitions were archived, --archive FILE reads them back for the check (as for \
            rebuild); without it the scratch build starts at the oldest event still in the log and \
            differs from live tables that were built from the whole history.

            Examples:
              gigctl projections verify
              gigctl projections verify --archive archive/events_1.ndjson
              gigctl projections verify competition_gigs --json
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Projections to verify (default: all).") var names: [String] = []
    @Option(help: "Differing rows to print per projection.") var limit: Int = 20
    @Option(help: "Events per batch.") var batchSize: Int = 2000
    @Option(
        help: ArgumentHelp(
            "Read this archived partition back into the log for the check (repeatable; see `gigctl log partitions`).",
            valueName: "file"))
    var archive: [String] = []
    @Flag(help: "Check against the log as it stands, without the archived partitions not given with --archive.")
    var skipArchived = false
    func validate() throws {
        guard (1...100_000).contains(batchSize) else { throw ValidationError("--batch-size must be 1…100000.") }
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1…10000.") }
    }
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let reports = try await global.withPool(maxConnections: 2) { pool in
                let engine = ProjectionEngine(
                    store: EventStore(pool: pool, logger: global.logger), projectors: ShippedProjectors.all,
                    batchSize: batchSize, logger: global.logger)
                let chosen = try chooseProjectors(names, all: false, engine: engine)
                let printer = ProgressPrinter(terminal: isatty(STDERR_FILENO) == 1, quiet: global.json)
                return try await withArchives(
                    archive, skipMissing: skipArchived, store: EventStore(pool: pool, logger: global.logger)
                ) {
                    var reports: [VerifyReport] = []
                    for projector in chosen {
                        printer.reset()
                        do {
                            reports.append(try await engine.verify(projector, limit: limit) { printer.show($0) })
                        } catch let failure as ProjectionFailure {
                            printer.finish()
                            throw CLIError(.problemFound, "\(failure)")
                        }
                        printer.finish()
                    }
                    return reports
                }
            }
            if global.json {
                try Output.json(reports)
            } else {
                for report in reports {
                    let rows = report.rows.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
                        separator: ", ")
                    if report.identical {
                        Output.line(
                            String(
                                format: "%@ v%d: identical at position %lld (%@ rows; %.1f s)", report.projector,
                                report.version,
                                report.position, rows, report.seconds))
                    } else {
                        Output.line(
                            "\(report.projector) v\(report.version): \(report.differenceCount) differing row(s) at position \(report.position):"
                        )
                        for difference in report.differences {
                            Output.line("  \(difference.table) only in \(difference.onlyIn): \(difference.row)")
                        }
                        if Int64(report.differences.count) < report.differenceCount {
                            Output.line(
                                "  … \(report.differenceCount - Int64(report.differences.count)) more (--limit shows more)"
                            )
                        }
                    }
                }
            }
            let differing = reports.filter { !$0.identical }.map(\.projector)
            if !differing.isEmpty {
                throw CLIError(
                    .problemFound,
                    "The live tables of \(differing.joined(separator: ", ")) differ from a rebuild; `gigctl projections rebuild` replaces them."
                )
            }
        }
    }
}

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Apply events to a projection again: from a position, or one stream's.",
        discussion: """
            Re-applies, to the live tables of PROJECTION, the events it has already applied: those \
            from --from POSITION up to its checkpoint, or those of --stream STREAM. The checkpoint \
            does not move, and the projection's daemon waits while the replay runs (one \
            transaction). Projectors are idempotent under replay, so this changes nothing unless \
            the tables were damaged or the projector was fixed; it prints every row it changed \
            (before → after). --dry-run does the same and rolls back.

            To rebuild a projection from scratch instead, use `gigctl projections rebuild`.

            Examples:
              gigctl replay competition_gigs --stream gig-3f2a9c1e-... --dry-run
              gigctl replay matching --from 120000
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The projection (competition_gigs, competition_skills, price_trends, matching, timers).")
    var projection: String
    @Option(help: "Replay the events from this log position on.") var from: Int64?
    @Option(help: "Replay only this stream's events.") var stream: String?
    @Flag(help: "Show what would change, then roll back.") var dryRun = false
    @Option(help: "Changed rows to print.") var limit: Int = 50
    func validate() throws {
        guard (from == nil) != (stream == nil) else {
            throw ValidationError("Give exactly one of --from POSITION and --stream STREAM.")
        }
        if let from, from < 1 { throw ValidationError("--from must be a log position (1 or more), not \(from).") }
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1…10000.") }
    }
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let report = try await global.withPool(maxConnections: 2) { pool in
                let engine = ProjectionEngine(
                    store: EventStore(pool: pool, logger: global.logger), projectors: ShippedProjectors.all,
                    logger: global.logger)
                let projector = try chooseProjectors([projection], all: false, engine: engine)[0]
                do {
                    return try await engine.replay(projector, from: from, stream: stream, dryRun: dryRun, limit: limit)
                } catch let failure as ProjectionFailure {
                    throw CLIError(.problemFound, "\(failure) Nothing was changed.")
                }
            }
            if global.json {
                try Output.json(report)
                return
            }
            let range = report.firstPosition.map { "positions \($0)…\(report.lastPosition ?? $0)" } ?? "no events"
            Output.line(
                "\(report.dryRun ? "Dry run: would replay" : "Replayed") \(report.eventsReplayed) event(s) (\(range)) into \(report.projector) v\(report.version)."
            )
            if report.differenceCount == 0 {
                Output.line(report.dryRun ? "Nothing would change." : "Nothing changed.")
            } else {
                Output.line(
                    "\(report.differenceCount) row(s) \(report.dryRun ? "would change" : "changed") (before = removed, after = added):"
                )
                for difference in report.differences {
                    Output.line("  \(difference.table) \(difference.onlyIn): \(difference.row)")
                }
            }
        }
    }
}

/// Runs `body` with the archives `files` read back into the log
/// (``EventStore/withRestoredArchives(_:_:)``). Refuses, before any work, when a partition was
/// archived and its file is not among them — a build without it would silently lack that
/// history — unless `skipMissing`.
func withArchives<R>(
    _ files: [String], skipMissing: Bool, store: EventStore, _ body: () async throws -> R
) async throws -> R {
    try await store.withRestoredArchives(files) { restored in
        let given = Set(restored.map(\.partition))
        let archived: [LogPartition] = try await store.partitions().filter { $0.state == .archived }
        let missing: [String] = archived.map(\.name).filter { !given.contains($0) }
        if !missing.isEmpty && !skipMissing {
            let names = missing.joined(separator: ", ")
            throw CLIError(
                .usage,
                "Partition(s) \(names) were archived: pass --archive FILE for each (`gigctl log partitions` shows "
                    + "their SHA-256), or --skip-archived to use the log as it stands.")
        }
        return try await body()
    }
}
