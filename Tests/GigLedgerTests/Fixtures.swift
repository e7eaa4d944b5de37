import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import TestSupport

/// A small market driven through the real command path, for tests.
struct Market {
    let service: MarketplaceService
    let start = Date(timeIntervalSince1970: 1_795_000_000)

    static func make(_ suite: String, maxConnections: Int = 10) async throws -> Market {
        let pool = try await TestDatabase.pool(for: suite, maxConnections: maxConnections)
        return Market(service: MarketplaceService(store: EventStore(pool: pool), masterKey: .forTests))
    }

    /// Runs a command given as JSON fields (the same path as `gigctl … --json`).
    @discardableResult
    func run(_ fields: [String: JSONValue], at time: Date? = nil) async throws -> CommandOutcome {
        let command = try CommandInput(fields: fields, now: time ?? start).command()
        return try await service.execute(command)
    }

    func registerClient() async throws -> UUID {
        let id = UUID()
        try await run([
            "command": "RegisterClient", "actor": .string("client:\(id.uuidString.lowercased())"),
            "clientId": .string(id.uuidString),
            "name": "Acme Robotics", "country": "DE", "paymentVerified": .bool(true),
        ])
        return id
    }

    func registerFreelancer(skills: [(String, Int)] = [("nlp", 3), ("python", 2)]) async throws -> UUID {
        let id = UUID()
        try await run([
            "command": "RegisterFreelancer", "actor": .string("freelancer:\(id.uuidString.lowercased())"),
            "freelancerId": .string(id.uuidString), "name": "Ada",
            "skills": .array(skills.map { .object(["skill": .string($0.0), "level": .number(Double($0.1))]) }),
            "hourlyRate": money(9_000), "hoursPerWeek": 30,
        ])
        return id
    }

    func postGig(client: UUID, closesIn days: Double = 7) async throws -> UUID {
        let gig = UUID()
        try await run([
            "command": "PostGig", "actor": .string("client:\(client.uuidString.lowercased())"),
            "gigId": .string(gig.uuidString),
            "clientId": .string(client.uuidString), "title": "Fine-tune an NLP classifier",
            "description": "Labels ready.",
            "skills": ["nlp", "python"], "budgetMin": money(100_000), "budgetMax": money(300_000),
            "biddingClosesAt": .string(iso(start.addingTimeInterval(days * 86_400))),
        ])
        return gig
    }

    func placeBid(gig: UUID, freelancer: UUID, amount: Int = 200_000, commandId: UUID = UUID()) async throws -> UUID {
        let bid = UUID()
        try await run([
            "command": "PlaceBid", "commandId": .string(commandId.uuidString),
            "actor": .string("freelancer:\(freelancer.uuidString.lowercased())"),
            "gigId": .string(gig.uuidString), "bidId": .string(bid.uuidString), "amount": money(amount),
            "estimatedDays": 10,
        ])
        return bid
    }
}

func money(_ minor: Int, _ currency: String = "EUR") -> JSONValue {
    .object(["currency": .string(currency), "minorUnits": .number(Double(minor))])
}

func iso(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
}
