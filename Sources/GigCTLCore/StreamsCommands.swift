import ArgumentParser
import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Synchronization

struct StreamsGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streams", abstract: "List streams, show their events, and fold them to any version or time.",
        discussion: """
            A stream is one entity's history: freelancer-ID, client-ID, gig-ID or contract-ID.

            Examples:
              gigctl streams list --category gig --since 2026-11-01 --limit 20
              gigctl streams show gig-3f2a9c1e-...
              gigctl streams state gig-3f2a9c1e-... --at-version 3
              gigctl streams state contract-... --at-time 2026-11-27T03:00:00Z
            """,
        subcommands: [StreamsList.self, StreamsShow.self, StreamsState.self])
}

/// An event as gigctl prints it. An event whose metadata is not GigLedger's (written by another
/// tool, say without `actor`) is printed as stored: `metadata` holds the raw JSON, `undecodable`
/// says why, and the decoded metadata fields are absent.
struct EventView: Encodable {
    let position: Int64
    let stream: String
    let version: Int64
    let type: String
    var schemaVersion: Int
    let occurredAt: Date
    let recordedAt: Date
    let actor: String?
    let commandId: String?
    let correlationId: String?
    let causationId: String?
    var data: JSONValue
    /// Only for an undecodable event: its metadata as stored.
    let metadata: JSONValue?
    /// Only for an undecodable event: why it could not be decoded.
    let undecodable: String?

    /// `event` with its data upcast to its type's current schema version by `registry`
    /// (`streams show --upcast`).
    ///
    /// - Throws: the registry's ``DomainError`` for an event it cannot read (unknown type,
    ///   newer version, missing or failing upcaster).
    init(_ event: RecordedEvent, upcastWith registry: EventRegistry) throws(DomainError) {
        self.init(event)
        let current = try registry.upcast(
            EncodedEvent(type: event.type, schemaVersion: event.schemaVersion, data: event.data.data))
        schemaVersion = current.schemaVersion
        data = (try? JSONDecoder().decode(JSONValue.self, from: current.data)) ?? data
    }

    /// `event` as stored, but its personal fields opened by `registry` (or the placeholder).
    init(_ event: RecordedEvent, revealedWith registry: EventRegistry) throws(DomainError) {
        self.init(event)
        let revealed = try registry.reveal(
            EncodedEvent(type: event.type, schemaVersion: event.schemaVersion, data: event.data.data))
        data = (try? JSONDecoder().decode(JSONValue.self, from: revealed.data)) ?? data
    }

    init(_ event: RecordedEvent) {
        position = event.position
        stream = event.stream.rawValue
        version = event.version
        type = event.type
        schemaVersion = event.schemaVersion
        occurredAt = event.occurredAt
        recordedAt = event.recordedAt
        actor = event.metadata.actor
        commandId = event.metadata.commandId.uuidString.lowercased()
        correlationId = event.metadata.correlationId.uuidString.lowercased()
        causationId = event.metadata.causationId?.uuidString.lowercased()
        data = Self.json(event.data)
        metadata = nil
        undecodable = nil
    }

    /// The decoded view when the event decodes; otherwise the event as stored, and why.
    init(_ stored: StoredEvent) {
        do { self.init(try RecordedEvent(stored)) } catch { self.init(undecodable: stored, reason: error.message) }
    }

    private init(undecodable stored: StoredEvent, reason: String) {
        position = stored.position
        stream = stored.stream
        version = stored.version
        type = stored.type
        schemaVersion = stored.schemaVersion
        occurredAt = stored.occurredAt
        recordedAt = stored.recordedAt
        actor = nil
        commandId = nil
        correlationId = nil
        causationId = nil
        data = Self.json(stored.data)
        metadata = Self.json(stored.metadata)
        undecodable = reason
    }

    private static func json(_ value: PGJSON) -> JSONValue {
        (try? JSONDecoder().decode(JSONValue.self, from: value.data))
            ?? .string(String(decoding: value.data, as: UTF8.self))
    }

    /// One compact JSON line (NDJSON).
    var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    func printText() {
        Output.line("#\(position)  \(stream) v\(version)  \(type) (schema \(schemaVersion))")
        if let undecodable, let metadata {
            Output.line("    occurred \(Output.timestamp(occurredAt))  recorded \(Output.timestamp(recordedAt))")
            Output.line("    undecodable: \(undecodable)")
            Output.line("    metadata \(String(decoding: Self.compact(metadata), as: UTF8.self))")
        } else {
            Output.line(
                "    occurred \(Output.timestamp(occurredAt))  recorded \(Output.timestamp(recordedAt))  actor \(actor ?? "-")"
            )
            Output.line(
                "    command \(commandId ?? "-")  correlation \(correlationId ?? "-")  causation \(causationId ?? "-")")
        }
        Output.line("    data \(String(decoding: Self.compact(data), as: UTF8.self))")
    }

    private static func compact(_ value: JSONValue) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data()
    }
}

/// Parses a time given on the command line: RFC 3339 / ISO 8601 (with or without fractional
/// seconds) or a date (midnight UTC).
func parseTime(_ text: String, option: String) throws -> Date {
    let full = ISO8601DateFormatter()
    full.formatOptions = [.withInternetDateTime]
    let fractional = ISO8601DateFormatter()
    fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    let day = ISO8601DateFormatter()
    day.formatOptions = [.withFullDate]
    if let date = full.date(from: text) ?? fractional.date(from: text) ?? day.date(from: text) { return date }
    throw ValidationError("\(option) takes a time like 2026-11-27T03:00:00Z or a date like 2026-11-27; got '\(text)'.")
}

func validateStreamName(_ text: String) throws -> StreamName {
    do { return try StreamName(validating: text) } catch {
        throw ValidationError(
            "'\(text)' is not a stream name: expected CATEGORY-ID, e.g. gig-3f2a9c1e-7b1d-4c55-9a6e-0d2f6a1b9c33.")
    }
}

struct StreamsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List streams in name order, with their version and last write.",
        discussion: """
            Pages: pass the last stream printed as --after to get the next page (the text output \
            prints the command for the next page).
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this category: freelancer, client, gig, contract or privacy.") var category: String?
    @Option(help: "Only streams last written at or after this time.") var since: String?
    @Option(help: "Only streams last written before this time.") var until: String?
    @Option(help: "Start after this stream name (paging).") var after: String?
    @Option(help: "Streams per page.") var limit: Int = 50
    func validate() throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1…10000.") }
        if let since { _ = try parseTime(since, option: "--since") }
        if let until { _ = try parseTime(until, option: "--until") }
    }
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let sinceDate = try since.map { try parseTime($0, option: "--since") }
            let untilDate = try until.map { try parseTime($0, option: "--until") }
            let streams = try await global.withReadPool(maxConnections: 1) { pool in
                try await EventStore(pool: pool, logger: global.logger).listStreams(
                    category: category, since: sinceDate, until: untilDate, after: after, limit: limit)
            }
            if global.json {
                try Output.json(streams)
                return
            }
            Output.table(
                ["STREAM", "VERSION", "CREATED", "LAST WRITE"],
                streams.map {
                    [$0.stream, String($0.version), Output.timestamp($0.createdAt), Output.timestamp($0.updatedAt)]
                })
            if streams.isEmpty { Output.line("No streams match.") }
            if streams.count == limit, let last = streams.last {
                Output.line(
                    "Next page: gigctl streams list --after \(last.stream)"
                        + (category.map { " --category \($0)" } ?? "") + " --limit \(limit)")
            }
        }
    }
}

struct StreamsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print every event of a stream with its metadata and data.",
        discussion: """
            Per event: version, log position, type and schema version, business (occurred) and \
            recorded time, actor, command / correlation / causation ids, and the data. --json \
            prints an array. The data is shown as stored, with the schema version it was written \
            with, except that personal fields (sealed per data subject) are opened with the \
            master key, or shown as "[erased]" for a forgotten subject; --upcast shows what \
            GigLedger reads instead: the data brought to the type's \
            current schema version by its upcasters (an event it cannot read stays as stored, \
            with the reason on stderr).

            Events in partitions detached from the log (`gigctl log partitions archive`) are \
            not shown: stderr says which versions are missing and which partition and archive \
            file (by its SHA-256) hold them; a stream wholly archived exits 1.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The stream, e.g. gig-3f2a9c1e-...") var stream: String
    @Option(help: "Start at this version.") var fromVersion: Int64 = 1
    @Option(help: "Most events to print.") var limit: Int = 10_000
    @Flag(help: "Show each event's data upcast to its type's current schema version.") var upcast = false
    func validate() throws {
        _ = try validateStreamName(stream)
        guard fromVersion >= 1 else { throw ValidationError("--from-version must be 1 or more.") }
        guard (1...1_000_000).contains(limit) else { throw ValidationError("--limit must be 1…1000000.") }
    }
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let name = try validateStreamName(stream)
            let (events, head, partitions, revealing) = try await global.withReadPool(maxConnections: 1) { pool in
                let store = EventStore(pool: pool, logger: global.logger)
                let events = try await store.readStream(name, from: fromVersion, limit: limit)
                let head = try await store.streamVersion(name)
                // Versions missing from what the log holds are in partitions no longer attached.
                let missing = ArchivedGap.missing(in: events, from: fromVersion, head: head, limit: limit)
                // Personal fields opened where the subject's key exists, "[erased]" where not.
                let revealing = try await global.vault(pool).revealing(
                    events.map { EncodedEvent(type: $0.type, schemaVersion: $0.schemaVersion, data: $0.data.data) },
                    in: .marketplace)
                return (events, head, missing.isEmpty ? [] : try await store.partitions(), revealing)
            }
            let gaps = ArchivedGap.find(in: events, from: fromVersion, head: head, limit: limit, partitions: partitions)
            if events.isEmpty && fromVersion == 1 && gaps.isEmpty {
                throw CLIError(
                    .problemFound, "Stream \(stream) has no events. `gigctl streams list` shows the streams there are.")
            }
            if events.isEmpty, !gaps.isEmpty {
                throw CLIError(.problemFound, gaps.map { $0.message(stream: stream) }.joined(separator: "\n"))
            }
            for gap in gaps { Output.error(gap.message(stream: stream)) }
            let views = events.map { event in
                do throws(DomainError) {
                    return upcast
                        ? try EventView(event, upcastWith: revealing) : try EventView(event, revealedWith: revealing)
                } catch {
                    Output.error(
                        "Event \(event.position) (\(event.type) v\(event.schemaVersion)) is shown as stored: \(error.message)"
                    )
                    return EventView(event)
                }
            }
            if global.json {
                try Output.json(views)
            } else {
                for view in views { view.printText() }
            }
        }
    }
}

/// Versions of a stream that `streams show` cannot print because their events lie in partitions
/// detached from the log (archived by `gigctl log partitions archive`), with those partitions.
struct ArchivedGap: Equatable {
    /// The missing versions.
    let versions: ClosedRange<Int64>
    /// The positions they must lie between (exclusive bounds; `nil`: no event shown on that side).
    let after: Int64?
    let before: Int64?
    /// The detached or archived partitions whose positions overlap that span.
    let partitions: [LogPartition]

    /// The missing version ranges: between `from` and the first event, between two events, and
    /// after the last event up to the stream's head (when the limit did not cut the read short).
    static func missing(in events: [RecordedEvent], from: Int64, head: Int64?, limit: Int) -> [(
        versions: ClosedRange<Int64>, after: Int64?, before: Int64?
    )] {
        guard let head, head >= from else { return [] }
        var gaps: [(versions: ClosedRange<Int64>, after: Int64?, before: Int64?)] = []
        var expected = from
        var previous: Int64? = nil
        for event in events {
            if event.version > expected { gaps.append((expected...(event.version - 1), previous, event.position)) }
            expected = event.version + 1
            previous = event.position
        }
        if events.count < limit, expected <= head { gaps.append((expected...head, previous, nil)) }
        return gaps
    }

    static func find(
        in events: [RecordedEvent], from: Int64, head: Int64?, limit: Int, partitions: [LogPartition]
    ) -> [ArchivedGap] {
        missing(in: events, from: from, head: head, limit: limit).map { gap in
            let holding = partitions.filter { partition in
                partition.state != .attached && partition.endPosition > (gap.after ?? 0) + 1
                    && partition.firstPosition < (gap.before ?? Int64.max)
            }
            return ArchivedGap(versions: gap.versions, after: gap.after, before: gap.before, partitions: holding)
        }
    }

    /// What is missing and where it is, for the person reading the stream.
    func message(stream: String) -> String {
        let what =
            versions.count == 1
            ? "Version \(versions.lowerBound) of \(stream) is"
            : "Versions \(versions.lowerBound)…\(versions.upperBound) of \(stream) are"
        guard !partitions.isEmpty else {
            return "\(what) not in the log and no detached partition accounts for them: check `gigctl log partitions`."
        }
        let places = partitions.map { partition -> String in
            let range = "positions \(partition.firstPosition)…\(partition.endPosition - 1)"
            switch partition.state {
            case .archived:
                let when = partition.archivedAt.map { ISO8601DateFormatter().string(from: $0) } ?? "?"
                return
                    "\(partition.name) (\(range)), archived \(when): \(partition.archivedEvents ?? 0) events in the file "
                    + "`gigctl log partitions archive \(partition.name) --output FILE` wrote, SHA-256 \(partition.archiveSHA256 ?? "?")"
            case .detached, .detaching, .attached:
                return
                    "\(partition.name) (\(range)), detached but not archived yet: finish with `gigctl log partitions archive \(partition.name) --output FILE`"
            }
        }
        return
            "\(what) not shown: they are in a partition detached from the log — "
            + places.joined(separator: "; ")
            + ". `gigctl projections rebuild` and `verify` read an archive back with --archive FILE."
    }

    static func == (lhs: ArchivedGap, rhs: ArchivedGap) -> Bool {
        lhs.versions == rhs.versions && lhs.after == rhs.after && lhs.before == rhs.before
            && lhs.partitions == rhs.partitions
    }
}

struct StreamsState: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Fold a stream with its domain logic to a version or a time: the aggregate as it was.",
        discussion: """
            Without options, the current state. --at-version V folds events 1…V; --at-time T \
            folds the events recorded at or before T (add --business-time to compare with the \
            events' business time instead). Prints the state as JSON.

            Examples:
              gigctl streams state gig-3f2a9c1e-... --at-version 2
              gigctl streams state gig-3f2a9c1e-... --at-time 2026-11-27T03:00:00Z
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The stream, e.g. gig-3f2a9c1e-...") var stream: String
    @Option(help: "Fold events up to and including this version.") var atVersion: Int64?
    @Option(help: "Fold events recorded at or before this time.") var atTime: String?
    @Flag(help: "With --at-time: use the events' business (occurred) time.") var businessTime = false
    func validate() throws {
        _ = try validateStreamName(stream)
        guard atVersion == nil || atTime == nil else {
            throw ValidationError("Give --at-version or --at-time, not both.")
        }
        if let atVersion, atVersion < 0 { throw ValidationError("--at-version must be 0 or more.") }
        if let atTime { _ = try parseTime(atTime, option: "--at-time") }
        if businessTime && atTime == nil { throw ValidationError("--business-time goes with --at-time.") }
    }
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            var point = FoldPoint.latest
            if let atVersion { point = .version(atVersion) }
            if let atTime {
                let time = try parseTime(atTime, option: "--at-time")
                point = businessTime ? .occurredAt(time) : .recordedAt(time)
            }
            let folded = try await global.withReadPool(maxConnections: 1) { pool in
                try await global.service(pool).fold(stream, to: point)
            }
            if global.json {
                struct Report: Encodable {
                    let stream: String
                    let version: Int64
                    let currentVersion: Int64
                    let occurredAt: Date?
                    let recordedAt: Date?
                    let state: JSONValue
                }
                let state = try JSONDecoder().decode(JSONValue.self, from: folded.stateJSON)
                try Output.json(
                    Report(
                        stream: folded.stream, version: folded.version, currentVersion: folded.currentVersion,
                        occurredAt: folded.occurredAt, recordedAt: folded.recordedAt, state: state))
            } else {
                Output.line(
                    "\(folded.stream) at version \(folded.version) of \(folded.currentVersion)"
                        + (folded.recordedAt.map {
                            " (last event recorded \(Output.timestamp($0)), occurred \(Output.timestamp(folded.occurredAt)))"
                        } ?? " (before its first event)"))
                Output.line(String(decoding: folded.stateJSON, as: UTF8.self))
            }
        }
    }
}

struct LogGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Read the global log and manage its partitions.",
        subcommands: [LogTail.self, LogPartitionsGroup.self])
}

struct LogTail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print the log's latest events, or those from a position; --follow keeps printing new ones.",
        discussion: """
            Events come in gap-safe log order (an event is printed once no earlier transaction can \
            still commit before it), so --follow never skips one. --json prints one JSON object \
            per line (NDJSON). An event gigctl cannot decode (metadata written by another tool, \
            say) is printed as stored, its raw metadata with "undecodable" saying why, and the \
            tail goes on. Stop --follow with Ctrl-C.

            Examples:
              gigctl log tail                               the last 20 events
              gigctl log tail --from 1200 --type BidPlaced
              gigctl log tail --follow --category gig --json | jq .type
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Start at this log position (default: the last --lines events).") var from: Int64?
    @Option(help: "Only this stream category (repeatable).") var category: [String] = []
    @Option(help: "Only this event type (repeatable).") var type: [String] = []
    @Option(help: "Without --from: how many of the latest events to start with.") var lines: Int = 20
    @Flag(help: "Keep printing events as they are appended.") var follow = false
    func validate() throws {
        guard (0...100_000).contains(lines) else { throw ValidationError("--lines must be 0…100000.") }
        if let from, from < 1 { throw ValidationError("--from must be a log position (1 or more).") }
    }
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            try await global.withReadPool(maxConnections: 1) { pool in
                let store = EventStore(pool: pool, logger: global.logger)
                let filter = LogFilter(
                    categories: category.isEmpty ? nil : category, types: type.isEmpty ? nil : type)
                let start: LogCheckpoint
                if let from {
                    start = try await store.checkpoint(atPosition: from)
                } else {
                    start = try await store.checkpoint(beforeLatest: lines, filter: filter)
                }
                // An event this tool cannot decode is printed as stored, and the tail goes on.
                for try await batch in store.follow(
                    after: start, filter: filter, batchSize: 1000, mode: follow ? .live : .untilCaughtUp)
                {
                    for event in batch.events {
                        let view = EventView(event)
                        if global.json { Output.line(view.jsonLine) } else { view.printText() }
                    }
                }
            }
        }
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the whole log as NDJSON, in position order.",
        discussion: """
            One JSON object per line: position, stream, version, type, schemaVersion, data, \
            metadata, occurredAt, recordedAt. Read from one consistent snapshot with COPY, so it \
            is fast and memory stays flat. `gigctl import` loads the file into an empty log.

            Examples:
              gigctl export --output ledger.ndjson
              gigctl export | gzip > ledger.ndjson.gz
            """)
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Write to this file (default: standard output).") var output: String?
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let handle: FileHandle
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: nil),
                    let opened = FileHandle(forWritingAtPath: output)
                else {
                    throw CLIError(.usage, "Cannot write \(output): check the folder exists and is writable.")
                }
                handle = opened
            } else {
                handle = FileHandle.standardOutput
            }
            let sink = LineSink(handle)
            let count = try await global.withReadPool(maxConnections: 1) { pool in
                try await EventStore(pool: pool, logger: global.logger).export { try sink.write($0) }
            }
            try sink.flush()
            if output != nil {
                try handle.close()
                Output.error("Exported \(count) event(s) to \(output ?? "-").")
            }
        }
    }
}

/// Buffers output into large writes (one write per COPY row would be slow).
final class LineSink: Sendable {
    private let handle: FileHandle
    private let buffer = Mutex<Data>(Data())
    init(_ handle: FileHandle) { self.handle = handle }
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        let full = buffer.withLock { data -> Data? in
            data.append(contentsOf: bytes)
            guard data.count >= 1 << 20 else { return nil }
            defer { data.removeAll(keepingCapacity: true) }
            return data
        }
        if let full { try handle.write(contentsOf: full) }
    }
    func flush() throws {
        let rest = buffer.withLock { data -> Data in
            defer { data.removeAll() }
            return data
        }
        if !rest.isEmpty { try handle.write(contentsOf: rest) }
    }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load a `gigctl export` file into an empty log, keeping positions, versions and order.",
        discussion: """
            Loads with COPY in one transaction: all or nothing. Rebuilds the streams and every \
            command's first result (so a command sent again is still recognised). Refuses a log \
            that already has events unless --allow-non-empty (positions must then not collide). \
            Needs the role that owns the schema (the one that ran `gigctl migrate`). Afterwards \
            run `gigctl projections run` (or `rebuild`) to fill the read models.

            Examples:
              gigctl import --input ledger.ndjson
              gunzip -c ledger.ndjson.gz | gigctl import
            """)
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Read this file (default: standard input).") var input: String?
    @Flag(help: "Import even though the log already has events.") var allowNonEmpty = false
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let handle: FileHandle
            if let input {
                guard let opened = FileHandle(forReadingAtPath: input) else {
                    throw CLIError(.usage, "Cannot read \(input): check the path.")
                }
                handle = opened
            } else {
                handle = FileHandle.standardInput
            }
            let report: ImportReport
            do {
                report = try await global.withPool(maxConnections: 1) { pool in
                    try await EventStore(pool: pool, logger: global.logger).importLog(allowNonEmpty: allowNonEmpty) {
                        writer in
                        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                            try writer.write(chunk)
                        }
                    }
                }
            } catch let error as PQError
                where error.server != nil && ErrorClassification(error).category == .internalError
            {
                throw CLIError(
                    .usage,
                    "The import was refused and nothing was stored: \(error.message)"
                        + (error.server?.detail.map { " (\($0))" } ?? "")
                        + ". Is the file a `gigctl export`, and is the log empty?")
            }
            if global.json {
                try Output.json(report)
            } else {
                Output.line(
                    "Imported \(report.events) event(s) in \(report.streams) stream(s) from \(report.commands) command(s); head at position \(report.headPosition)."
                )
                Output.line("Next: gigctl projections run   (fills the read models)")
            }
        }
    }
}
