import ArgumentParser
import EventStore
import Foundation
import GigLedger
import Marketplace

/// Options every marketplace command takes.
struct CommandOptions: ParsableArguments {
    @OptionGroup var global: GlobalOptions

    @Option(
        name: .customLong("command-id"),
        help: ArgumentHelp(
            "Idempotency key (UUID). Send the same one to retry safely; default: a new one.", valueName: "uuid"))
    var commandID: String?

    @Option(help: ArgumentHelp("Business time of the command, ISO 8601 (default: now).", valueName: "time"))
    var at: String?

    @Option(
        help: ArgumentHelp(
            "Who acts: client:<uuid>, freelancer:<uuid>, admin:<name> or system (default: from --client/--freelancer).",
            valueName: "actor"))
    var actor: String?

    @Flag(
        name: .customLong("stdin"),
        help: "Read the whole command as one JSON object on stdin (see `gigctl submit --help`).")
    var fromStdin = false

    /// Runs `name` with `fields` (or the JSON on stdin), printing the ids it created and its events.
    /// `actorFrom` names the actor kind and the field holding its id when the command creates the
    /// actor itself (registrations).
    func execute(
        _ name: String, _ fields: [String: JSONValue], created: [String] = [], defaultActor: String? = nil,
        actorFrom: (kind: String, field: String)? = nil
    ) async throws {
        try await runReportingErrors(json: global.json) {
            var fields = fields
            if fromStdin || global.json && fields.isEmpty {
                fields = try CommandOptions.readStdinObject()
            }
            if fields["command"] == nil { fields["command"] = .string(name) }
            if let commandID { fields["commandId"] = .string(commandID) }
            if let at { fields["occurredAt"] = .string(at) }
            // Ids the command creates are drawn here, so they can be printed.
            var ids: [String: String] = [:]
            for key in created {
                if case .string(let given)? = fields[key] {
                    ids[key] = given.lowercased()
                } else {
                    let id = UUID().uuidString.lowercased()
                    fields[key] = .string(id)
                    ids[key] = id
                }
            }
            if let actor {
                fields["actor"] = .string(actor)
            } else if fields["actor"] == nil, let defaultActor {
                fields["actor"] = .string(defaultActor)
            } else if fields["actor"] == nil, let actorFrom, case .string(let id)? = fields[actorFrom.field] {
                fields["actor"] = .string("\(actorFrom.kind):\(id.lowercased())")
            }
            let command = try CommandInput(fields: fields).command()
            let outcome = try await global.withPool(maxConnections: 2) { pool in
                try await global.service(pool).execute(command)
            }
            CommandOptions.print(outcome, ids: ids, json: global.json)
        }
    }

    static func readStdinObject() throws -> [String: JSONValue] {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard data.count <= 1 << 20 else { throw CLIError(.usage, "The JSON command on stdin is larger than 1 MiB.") }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: data), case .object(let fields) = value else {
            throw CLIError(
                .usage,
                "stdin does not hold one JSON object. Example: echo '{\"command\":\"PlaceBid\", …}' | gigctl submit")
        }
        return fields
    }

    static func print(_ outcome: CommandOutcome, ids: [String: String], json: Bool) {
        if json {
            struct Printed: Encodable {
                let outcome: CommandOutcome
                let ids: [String: String]
            }
            try? Output.json(Printed(outcome: outcome, ids: ids))
            return
        }
        let what =
            outcome.duplicate
            ? "already handled (same command id): its first result"
            : outcome.changedNothing
                ? "already in effect: nothing to append" : "appended \(outcome.events.count) event(s)"
        Output.line("\(outcome.command) \(outcome.commandId.uuidString.lowercased()): \(what)")
        for (key, id) in ids.sorted(by: { $0.key < $1.key }) { Output.line("  \(key) \(id)") }
        for event in outcome.events {
            Output.line("  \(event.type) → \(event.stream) v\(event.version) (position \(event.position))")
        }
    }
}

/// Small helpers to build JSON fields from flags.
enum Fields {
    static func money(_ amount: String, _ currency: String) -> JSONValue {
        ["currency": .string(currency.uppercased()), "amount": .string(amount)]
    }
    static func optional(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
    static func skills(_ specs: [String]) throws -> JSONValue {
        .array(
            try specs.map { spec in
                let parts = spec.split(separator: ":")
                guard parts.count == 2, let level = Int(parts[1]) else {
                    throw ValidationError("--skill takes slug:level, e.g. nlp:3 (level 1–3); got \(spec).")
                }
                return ["skill": .string(String(parts[0])), "level": .number(Double(level))]
            })
    }
}
