import ArgumentParser
import EventStore
import Foundation

struct LogPartitionsGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partitions",
        abstract: "List, prepare and archive the partitions of the log.",
        discussion: """
            ledger.events is partitioned by position range (10 M positions each by default; the \
            settings are in ledger.event_partitioning). Partitions are made ahead of need by \
            `prepare`, which the projection daemon runs at start and hourly and the nightly job \
            runs once a night. `archive` exports an old partition to a file and detaches it \
            without stopping writers or readers; `gigctl projections rebuild --archive FILE` and \
            `verify --archive FILE` read it back. The runbook is in docs/OPERATIONS.md.
            """,
        subcommands: [LogPartitionsList.self, LogPartitionsPrepare.self, LogPartitionsArchive.self],
        defaultSubcommand: LogPartitionsList.self)
}

struct LogPartitionsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List every partition of the log: its positions, state and archive.",
        discussion: """
            States: attached (part of the log), detaching (an interrupted archive: run it again), \
            detached (not part of the log, not yet archived: run archive again), archived (its \
            events are in an archive file whose event count and SHA-256 are shown).

            Examples:
              gigctl log partitions
              gigctl log partitions list --json
            """)
    @OptionGroup var global: GlobalOptions
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let partitions = try await global.withPool(maxConnections: 1) { pool in
                try await EventStore(pool: pool, logger: global.logger).partitions()
            }
            if global.json {
                try Output.json(partitions)
                return
            }
            Output.table(
                ["partition", "positions", "state", "archived", "events", "sha256"],
                partitions.map { partition in
                    [
                        partition.name, "\(partition.firstPosition)..<\(partition.endPosition)",
                        partition.state.rawValue, partition.archivedAt.map { Output.timestamp($0) } ?? "-",
                        partition.archivedEvents.map { String($0) } ?? "-", partition.archiveSHA256 ?? "-",
                    ]
                })
        }
    }
}

struct LogPartitionsPrepare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Make partitions until enough lie ahead of the head of the log.",
        discussion: """
            Makes partitions of ledger.event_partitioning's partition_size positions until \
            partitions_ahead of them (4 by default) lie wholly above the head. Writers and readers \
            go on meanwhile. Idempotent: prints the partitions made, or that none were needed.

            Example:
              gigctl log partitions prepare
            """)
    @OptionGroup var global: GlobalOptions
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let made = try await global.withPool(maxConnections: 1) { pool in
                try await EventStore(pool: pool, logger: global.logger).preparePartitions()
            }
            if global.json {
                try Output.json(made)
            } else if made.isEmpty {
                Output.line("Enough partitions lie ahead of the head; none made.")
            } else {
                Output.line("Made \(made.count) partition(s): \(made.joined(separator: ", ")).")
            }
        }
    }
}

struct LogPartitionsArchive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Detach an old partition from the log and write its events to an archive file.",
        discussion: """
            Detaches the partition with DETACH PARTITION … CONCURRENTLY (writers and readers go \
            on; it waits for the transactions using it), then writes its events to --output as \
            NDJSON — the lines of `gigctl export` plus each event's transactionId — and records \
            their count and SHA-256 in ledger.event_partitions. --drop-table then drops the \
            detached table: keep the file safe (and backed up) first, as it is then the only copy.

            Refused when the partition still takes appends, when a projection has not applied all \
            of its events yet, or when it was archived already. Interrupted? Run the same command \
            again: it finishes the detach and writes the file. Needs the role that owns the schema.

            Streams are read whole: a stream with events in an archived partition is read without \
            them, so archive only partitions whose streams are finished (docs/OPERATIONS.md).

            Examples:
              gigctl log partitions archive events_1 --output archive/events_1.ndjson
              gigctl log partitions archive events_1 --output archive/events_1.ndjson --drop-table
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The partition to archive (`gigctl log partitions` lists them).") var partition: String
    @Option(name: .shortAndLong, help: "Write the archive to this file (it must not exist).") var output: String
    @Flag(help: "Drop the detached table once the archive is written.") var dropTable = false
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            guard !FileManager.default.fileExists(atPath: output) else {
                throw CLIError(.usage, "\(output) exists already: choose a new file (an archive is never overwritten).")
            }
            guard FileManager.default.createFile(atPath: output, contents: nil),
                let handle = FileHandle(forWritingAtPath: output)
            else {
                throw CLIError(.usage, "Cannot write \(output): check the folder exists and is writable.")
            }
            let sink = LineSink(handle)
            let archive: PartitionArchive
            do {
                archive = try await global.withPool(maxConnections: 1) { pool in
                    try await EventStore(pool: pool, logger: global.logger).archivePartition(
                        partition, dropTable: dropTable
                    ) { try sink.write($0) }
                }
                try sink.flush()
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                try? FileManager.default.removeItem(atPath: output)
                throw error
            }
            if global.json {
                try Output.json(archive)
            } else {
                Output.line(
                    "Archived \(archive.partition) (positions \(archive.firstPosition)..<\(archive.endPosition)): "
                        + "\(archive.events) event(s) to \(output), SHA-256 \(archive.sha256)"
                        + (archive.dropped
                            ? "; table dropped." : "; the detached table is kept (ledger.\(archive.partition))."))
            }
        }
    }
}
