import EventStore
import Foundation
import GigLedger
import HummingbirdTesting
import Server
import Testing

/// Each command of the marketplace, driven from post to paid over HTTP: before each step every
/// actor kind that may not take it is refused with 403 and the log stays as it was; then the
/// actor that may takes it (201).
@Suite("Authorisation matrix")
struct AuthorizationMatrixTests {
    struct Refusal {
        let subject: String
        let scopes: Set<String>
        init(_ subject: String, _ scopes: Set<String> = []) {
            self.subject = subject
            self.scopes = scopes
        }
    }

    @Test("every command × every actor kind: allowed ones succeed, the others get 403 and append nothing")
    func matrix() async throws {
        try await ServerHarness.withServer("server_authz_matrix") { client in
            let c = UUID()
            let c2 = UUID()
            let f = UUID()
            let f2 = UUID()
            let client1 = "client:\(c.wire)"
            let client2 = "client:\(c2.wire)"
            let free1 = "freelancer:\(f.wire)"
            let free2 = "freelancer:\(f2.wire)"
            let admin = "admin:ops"
            let reader = Refusal("service:analytics", [Principal.Scope.reads, Principal.Scope.events])
            var covered: Set<String> = []

            @discardableResult
            func step(_ fields: [String: JSONValue], by subject: String, scopes: Set<String> = [], refused: [Refusal])
                async throws -> JSONValue?
            {
                let name = fields["command"]?.stringValue ?? "?"
                covered.insert(name)
                for refusal in refused {
                    let head = try await client.head()
                    let response = try await client.command(fields, as: refusal.subject, scopes: refusal.scopes)
                    #expect(
                        response.status == .forbidden,
                        "\(name) by \(refusal.subject): \(response.status) \(response.text)")
                    #expect(try await client.head() == head, "\(name) by \(refusal.subject) appended")
                }
                let response = try await client.command(fields, as: subject, scopes: scopes)
                #expect(response.status == .created, "\(name) by \(subject): \(response.status) \(response.text)")
                return response.json
            }
            func id(_ json: JSONValue?, _ key: String) throws -> String {
                try #require(json?["ids"]?[key]?.stringValue)
            }
            let later = Commands.iso(Date().addingTimeInterval(60 * 86_400))

            // Registrations: as themselves or an admin.
            try await step(
                Commands.registerClient(c), by: client1, refused: [Refusal(client2), Refusal(free1), reader])
            try await step(Commands.registerClient(c2), by: admin, refused: [Refusal(client1), Refusal(free2)])
            try await step(
                Commands.registerFreelancer(f), by: free1, refused: [Refusal(free2), Refusal(client1), reader])
            try await step(Commands.registerFreelancer(f2), by: admin, refused: [Refusal(free1), Refusal(client2)])
            try await step(
                [
                    "command": "UpdateSkills", "freelancerId": .string(f.wire),
                    "skills": [["skill": "nlp", "level": 3]],
                ],
                by: free1, refused: [Refusal(free2), Refusal(client1), reader])
            try await step(
                ["command": "ChangeRate", "freelancerId": .string(f.wire), "hourlyRate": Commands.money(9_500)],
                by: free1, refused: [Refusal(free2), Refusal(client1), reader])
            try await step(
                ["command": "ChangeAvailability", "freelancerId": .string(f.wire), "hoursPerWeek": 25],
                by: admin, refused: [Refusal(free2), Refusal(client2), reader])
            try await step(
                [
                    "command": "SetPreferences", "freelancerId": .string(f.wire),
                    "minimumBudget": Commands.money(50_000), "currencies": ["EUR"], "wantedSkills": ["nlp"],
                    "maxConcurrentContracts": 3,
                ],
                by: free1, refused: [Refusal(free2), Refusal(client1), reader])

            // A gig from post to paid.
            let gig = try id(
                try await step(
                    Commands.postGig(client: c), by: client1, refused: [Refusal(client2), Refusal(free1), reader]),
                "gigId")
            let bid = try id(
                try await step(
                    Commands.placeBid(gig: gig), by: free1, refused: [Refusal(client1), Refusal(admin), reader]),
                "bidId")
            try await step(
                [
                    "command": "ReviseBid", "gigId": .string(gig), "bidId": .string(bid),
                    "amount": Commands.money(190_000), "estimatedDays": 9,
                ],
                by: free1, refused: [Refusal(free2), Refusal(client1), Refusal(admin), reader])
            let other = try id(try await step(Commands.placeBid(gig: gig), by: free2, refused: []), "bidId")
            try await step(
                ["command": "WithdrawBid", "gigId": .string(gig), "bidId": .string(other)],
                by: free2, refused: [Refusal(free1), Refusal(client1), Refusal(admin), reader])
            let third = try id(
                try await step(Commands.placeBid(gig: gig, amount: 390_000), by: free2, refused: []), "bidId")
            try await step(
                ["command": "DeclineBid", "gigId": .string(gig), "bidId": .string(third), "reason": "priceTooHigh"],
                by: client1, refused: [Refusal(client2), Refusal(free2), Refusal(admin), reader])
            let contract = try id(
                try await step(
                    ["command": "AcceptBid", "gigId": .string(gig), "bidId": .string(bid)],
                    by: client1, refused: [Refusal(client2), Refusal(free1), reader]),
                "contractId")
            let first = try id(
                try await step(
                    ["command": "SubmitDelivery", "contractId": .string(contract), "note": "v1"],
                    by: free1, refused: [Refusal(free2), Refusal(client1), Refusal(admin), reader]),
                "deliveryId")
            try await step(
                [
                    "command": "RequestChanges", "contractId": .string(contract), "deliveryId": .string(first),
                    "reason": "more",
                ],
                by: client1, refused: [Refusal(client2), Refusal(free1), reader])
            let second = try id(
                try await step(
                    ["command": "SubmitDelivery", "contractId": .string(contract), "note": "v2"], by: free1, refused: []
                ),
                "deliveryId")
            try await step(
                ["command": "ApproveDelivery", "contractId": .string(contract), "deliveryId": .string(second)],
                by: client1, refused: [Refusal(client2), Refusal(free1), reader])
            try await step(
                ["command": "SubmitReview", "contractId": .string(contract), "rating": 5],
                by: client1, refused: [Refusal(client2), Refusal(free2), Refusal(admin), reader])

            // Cancelling a gig.
            let cancelled = try id(try await step(Commands.postGig(client: c), by: admin, refused: []), "gigId")
            try await step(
                ["command": "CancelGig", "gigId": .string(cancelled)],
                by: client1, refused: [Refusal(client2), Refusal(free1), reader])

            // The timers: admins and services with the timers scope, as `system`.
            let expiring = try id(
                try await step(
                    Commands.postGig(client: c, closes: Date().addingTimeInterval(86_400)), by: client1, refused: []),
                "gigId")
            try await step(
                ["command": "ExpireGig", "gigId": .string(expiring), "occurredAt": .string(later)],
                by: "service:timers", scopes: [Principal.Scope.timers],
                refused: [Refusal(client1), Refusal(free1), reader])

            let gig2 = try id(try await step(Commands.postGig(client: c), by: client1, refused: []), "gigId")
            let bid2 = try id(try await step(Commands.placeBid(gig: gig2), by: free1, refused: []), "bidId")
            let contract2 = try id(
                try await step(
                    ["command": "AcceptBid", "gigId": .string(gig2), "bidId": .string(bid2)], by: client1, refused: []),
                "contractId")
            let delivery2 = try id(
                try await step(
                    ["command": "SubmitDelivery", "contractId": .string(contract2)], by: free1, refused: []),
                "deliveryId")
            try await step(
                [
                    "command": "AutoApproveDelivery", "contractId": .string(contract2),
                    "deliveryId": .string(delivery2), "occurredAt": .string(later),
                ],
                by: admin, refused: [Refusal(client1), Refusal(free1), reader])

            // Disputes: a party opens, an admin resolves.
            let gig3 = try id(try await step(Commands.postGig(client: c), by: client1, refused: []), "gigId")
            let bid3 = try id(try await step(Commands.placeBid(gig: gig3), by: free1, refused: []), "bidId")
            let contract3 = try id(
                try await step(
                    ["command": "AcceptBid", "gigId": .string(gig3), "bidId": .string(bid3)], by: client1, refused: []),
                "contractId")
            let dispute = try id(
                try await step(
                    ["command": "OpenDispute", "contractId": .string(contract3), "reason": "silence"],
                    by: free1, refused: [Refusal(free2), Refusal(client2), reader]),
                "disputeId")
            try await step(
                [
                    "command": "ResolveDispute", "contractId": .string(contract3), "disputeId": .string(dispute),
                    "resolution": "refundClient",
                ],
                by: admin, refused: [Refusal(client1), Refusal(free1), reader])

            // Cancelling a contract: a party or an admin.
            let gig4 = try id(try await step(Commands.postGig(client: c), by: client1, refused: []), "gigId")
            let bid4 = try id(try await step(Commands.placeBid(gig: gig4), by: free1, refused: []), "bidId")
            let contract4 = try id(
                try await step(
                    ["command": "AcceptBid", "gigId": .string(gig4), "bidId": .string(bid4)], by: client1, refused: []),
                "contractId")
            try await step(
                ["command": "CancelContract", "contractId": .string(contract4)],
                by: client1, refused: [Refusal(client2), Refusal(free2), reader])

            #expect(
                covered == Set(CommandInput.commandNames),
                "commands not exercised: \(Set(CommandInput.commandNames).subtracting(covered))")
        }
    }
}
