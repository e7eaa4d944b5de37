import EventStore
import Foundation
import GigLedger
import Hummingbird
import Marketplace

/// `POST /v1/commands`: one marketplace command, exactly the JSON of `gigctl submit`, run as the
/// token's actor.
///
/// - `Idempotency-Key` (a UUID) is the command id: a repeat answers the first result with 200
///   and appends nothing. Ids the command creates (`gigId` of PostGig, `bidId`, `contractId`,
///   `deliveryId`, `disputeId`) default to ids derived from the command id, so a repeat names the
///   same ones.
/// - The key is bound to the actor who first used it: the same key from another actor is
///   refused with 409 `COMMAND_ID_TAKEN` (nothing appended, no one else's result revealed).
/// - 201 with the created ids, the events and their positions; `position` is what a read's
///   `minPosition` waits for.
struct CommandsController: Sendable {
    let service: MarketplaceService
    let metrics: ServerMetrics

    /// The response of a command.
    struct Result: Codable, Sendable, Equatable {
        struct Event: Codable, Sendable, Equatable {
            let stream: String
            let version: Int64
            let position: Int64
            let type: String
        }
        let command: String
        let commandId: String
        /// True when the command id had been handled before: this is its first result.
        let duplicate: Bool
        let ids: [String: String]
        let events: [Event]
        /// The highest position appended (0 if none): pass it as `minPosition` to read your write.
        let position: Int64
    }

    /// The ids each command creates, by field.
    static let createdIDs: [String: [String]] = [
        "PostGig": ["gigId"], "PlaceBid": ["bidId"], "AcceptBid": ["contractId"], "SubmitDelivery": ["deliveryId"],
        "OpenDispute": ["disputeId"],
    ]

    /// Commands the platform's timers run, as `system`: an admin or a `service:` token with the
    /// `timers` scope may send them.
    static let timerCommands: Set<String> = ["ExpireGig", "AutoApproveDelivery"]

    func addRoutes(to group: RouterGroup<ServerContext>) {
        group.post("commands") { request, context in try await self.submit(request, context) }
    }

    func submit(_ request: Request, _ context: ServerContext) async throws -> Response {
        guard let principal = context.principal else { throw AuthError(.missingToken, "No bearer token.") }
        let mediaType = request.headers[.contentType].flatMap { MediaType(from: $0) }
        guard let mediaType, mediaType.isType(.applicationJson) || mediaType.subType.hasSuffix("+json") else {
            throw Problem(
                .unsupportedMediaType, code: "UNSUPPORTED_MEDIA_TYPE",
                detail: "Send the command as Content-Type: application/json.")
        }
        let limit = context.bodyLimit
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw tooLarge(limit)
        }
        let body = request.body
        let buffer: ByteBuffer
        do { buffer = try await body.collect(upTo: limit) } catch { throw tooLarge(limit) }
        var fields = try Self.object(Data(buffer.readableBytesView))

        let name: String
        guard case .string(let given)? = fields["command"] else {
            throw Problem(
                .badRequest, code: "INVALID_COMMAND",
                detail:
                    "The object has no \"command\" string; name one of: \(CommandInput.commandNames.joined(separator: ", ")).",
                field: "command")
        }
        name = given
        guard CommandInput.commandNames.contains(name) else {
            throw Problem(
                .badRequest, code: "INVALID_COMMAND",
                detail:
                    "Unknown command \"\(name.prefix(60))\". Known commands: \(CommandInput.commandNames.joined(separator: ", ")).",
                field: "command")
        }

        // The command id: the Idempotency-Key, else the body's commandId, else a new one.
        let commandID: UUID
        if let key = request.headers[.idempotencyKey] {
            guard let id = UUID(uuidString: key) else {
                throw ProblemMapping.invalidParameter("Idempotency-Key", "The Idempotency-Key header must be a UUID.")
            }
            if case .string(let text)? = fields["commandId"], UUID(uuidString: text) != id {
                throw Problem(
                    .badRequest, code: "INVALID_COMMAND",
                    detail:
                        "The body's commandId differs from the Idempotency-Key header; send one, or the same in both.",
                    field: "commandId")
            }
            commandID = id
        } else if case .string(let text)? = fields["commandId"], let id = UUID(uuidString: text) {
            commandID = id
        } else if fields["commandId"] == nil || fields["commandId"] == .null {
            commandID = UUID()
        } else {
            throw Problem(
                .badRequest, code: "INVALID_COMMAND", detail: "Field \"commandId\" must be a UUID.", field: "commandId")
        }
        fields["commandId"] = .string(commandID.uuidString.lowercased())

        // The actor comes from the token; a body that names another is refused.
        let actor = try CommandAuthorization.actor(for: name, principal: principal)
        if let stated = fields["actor"], stated != .null {
            guard case .string(let text) = stated, let parsed = try? ActorRef(parsing: text), parsed == actor else {
                throw AuthError(
                    .actorMismatch,
                    "The body's actor is not the token's (\(actor)); leave actor out, the token says who acts.")
            }
        }
        fields["actor"] = .string(actor.description)

        var ids: [String: String] = [:]
        for key in Self.createdIDs[name] ?? [] {
            if case .string(let given)? = fields[key] {
                ids[key] = given.lowercased()
            } else if fields[key] == nil || fields[key] == .null {
                let id = UUID(stableName: "http:\(commandID.uuidString.lowercased()):\(key)").uuidString.lowercased()
                fields[key] = .string(id)
                ids[key] = id
            }
        }

        let command = try CommandInput(fields: fields).command()
        let start = ContinuousClock.now
        let outcome: CommandOutcome
        do {
            outcome = try await service.execute(command, correlationId: context.correlationID)
        } catch {
            metrics.command(name, outcome: ProblemMapping.problem(for: error).code, duration: start.duration(to: .now))
            throw error
        }
        if outcome.duplicate, let first = try await firstActor(of: outcome), first != actor.description {
            metrics.command(name, outcome: Self.commandIDTaken, duration: start.duration(to: .now))
            throw Problem(
                .conflict, code: Self.commandIDTaken,
                detail:
                    "Another actor already used this Idempotency-Key (command id); nothing was done. Send your command with a key of your own."
            )
        }
        metrics.command(
            name, outcome: outcome.duplicate ? "duplicate" : outcome.changedNothing ? "unchanged" : "appended",
            duration: start.duration(to: .now))
        let result = Result(
            command: outcome.command, commandId: outcome.commandId.uuidString.lowercased(),
            duplicate: outcome.duplicate, ids: ids,
            events: outcome.events.map {
                Result.Event(stream: $0.stream, version: $0.version, position: $0.position, type: $0.type)
            },
            position: outcome.events.map(\.position).max() ?? 0)
        let created = !outcome.duplicate && !outcome.changedNothing
        return try JSONBody.response(result, status: created ? .created : .ok)
    }

    /// A repeated command id sent by an actor other than the one who first used it.
    static let commandIDTaken = "COMMAND_ID_TAKEN"

    /// The actor who first ran a repeated command: the metadata of the first event it appended.
    /// An idempotency key is bound to its actor, so a repeat by anyone else gets 409 instead of
    /// the first actor's result.
    private func firstActor(of outcome: CommandOutcome) async throws -> String? {
        guard let first = outcome.events.first else { return nil }
        let stream = try StreamName(validating: first.stream)
        return try await service.store.readStream(stream, from: first.version, limit: 1).first?.metadata.actor
    }

    private func tooLarge(_ limit: Int) -> Problem {
        Problem(
            .contentTooLarge, code: "BODY_TOO_LARGE",
            detail: "The body is larger than \(limit / 1024) KiB; nothing was done.")
    }

    static func object(_ data: Data) throws -> [String: JSONValue] {
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw Problem(
                .badRequest, code: "INVALID_COMMAND",
                detail: "The body is not valid JSON; send one object such as {\"command\": \"PlaceBid\", …}.")
        }
        guard case .object(let fields) = value else {
            throw Problem(
                .badRequest, code: "INVALID_COMMAND",
                detail: "The body must be one JSON object with a \"command\" field.")
        }
        return fields
    }
}

/// Who may send which command, before the domain's own rules (which check ownership against the
/// gig's and contract's state).
enum CommandAuthorization {
    /// The actor `principal` runs `command` as, or 403.
    static func actor(for command: String, principal: Principal) throws(AuthError) -> ActorRef {
        if CommandsController.timerCommands.contains(command) {
            guard principal.has(Principal.Scope.timers) else {
                throw AuthError(
                    .forbidden,
                    "\(command) is a timer's command: only an admin or a service with the timers scope may send it.")
            }
            return .system
        }
        guard let actor = principal.actor else {
            throw AuthError(.forbidden, "A service token cannot send \(command); services read and follow events only.")
        }
        return actor
    }
}

/// JSON responses, encoded one way everywhere.
enum JSONBody {
    static func data(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(value)
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws
        -> Response
    {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try data(value))))
    }
}
