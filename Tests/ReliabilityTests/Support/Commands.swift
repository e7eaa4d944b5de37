import EventStore
import Foundation
import GigLedger

/// Small marketplace commands for the tests that need a few real events (a client, gigs).
enum Commands {
    static func fields(_ command: String, _ actor: String, _ extra: [String: JSONValue]) -> [String: JSONValue] {
        var fields = extra
        fields["command"] = .string(command)
        fields["actor"] = .string(actor)
        return fields
    }

    static func registerClient(_ client: String) throws -> MarketplaceCommand {
        try CommandInput(
            fields: fields(
                "RegisterClient", "client:\(client)", ["clientId": .string(client), "name": "Acme", "country": "DE"])
        ).command()
    }

    static func postGig(_ gig: String, by client: String) throws -> MarketplaceCommand {
        try CommandInput(
            fields: fields(
                "PostGig", "client:\(client)",
                [
                    "gigId": .string(gig), "clientId": .string(client), "title": "Annotate images",
                    "skills": ["computer-vision"],
                    "budgetMin": .object(["currency": "EUR", "minorUnits": 50_000]),
                    "budgetMax": .object(["currency": "EUR", "minorUnits": 90_000]),
                    "biddingClosesAt": .string(
                        ISO8601DateFormatter().string(from: Date().addingTimeInterval(7 * 86_400))),
                ])
        ).command()
    }
}

/// Polls `check` every 20 ms until it holds, for at most `timeout`. Only for what cannot be
/// awaited: a hot standby gets no NOTIFY, so its readers poll.
func eventually(_ what: String, timeout: Duration = .seconds(60), _ check: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while try await !check() {
        guard ContinuousClock.now < deadline else {
            throw ThrowawayCluster.Failure(description: "gave up after \(timeout) waiting until \(what)")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
