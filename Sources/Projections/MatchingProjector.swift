import EventStore
import Foundation
import PQ

/// The facts matching needs, kept from the log (version 1 tables in `read_models`):
/// freelancers (rate, hours, reputation inputs, active contracts), their skills with levels,
/// gigs (skills, budget, status) and contracts (to credit reviews and outcomes). Scoring itself
/// is ``Matching``: it reads these tables with versioned weights.
public struct MatchingProjector: Projector {
    public let name = "matching"
    public let version = 1
    public let tables = ["match_freelancers_v1", "match_freelancer_skills_v1", "match_gigs_v1", "match_contracts_v1"]
    public init() {}

    public func prepare(on connection: Connection) async throws {
        try await connection.executeScript("""
            CREATE TABLE IF NOT EXISTS match_freelancers_v1 (
                freelancer_id     uuid        PRIMARY KEY,
                hourly_rate_minor bigint      NOT NULL,
                currency          text        NOT NULL,
                hours_per_week    integer     NOT NULL,
                registered_at     timestamptz NOT NULL,
                ratings_sum       integer     NOT NULL DEFAULT 0,
                ratings_n         integer     NOT NULL DEFAULT 0,
                contracts_started integer     NOT NULL DEFAULT 0,
                completed         integer     NOT NULL DEFAULT 0,
                failed            integer     NOT NULL DEFAULT 0,
                active_contracts  integer     NOT NULL DEFAULT 0
            );
            CREATE TABLE IF NOT EXISTS match_freelancer_skills_v1 (
                freelancer_id uuid    NOT NULL,
                skill         text    NOT NULL,
                level         integer NOT NULL,
                PRIMARY KEY (freelancer_id, skill)
            );
            CREATE INDEX IF NOT EXISTS match_freelancer_skills_v1_skill ON match_freelancer_skills_v1 (skill);
            CREATE TABLE IF NOT EXISTS match_gigs_v1 (
                gig_id           uuid        PRIMARY KEY,
                client_id        uuid        NOT NULL,
                currency         text        NOT NULL,
                budget_min_minor bigint      NOT NULL,
                budget_max_minor bigint      NOT NULL,
                skills           text[]      NOT NULL,
                status           text        NOT NULL,
                posted_at        timestamptz NOT NULL
            );
            CREATE TABLE IF NOT EXISTS match_contracts_v1 (
                contract_id   uuid PRIMARY KEY,
                freelancer_id uuid NOT NULL,
                ended         boolean NOT NULL DEFAULT false
            )
            """)
    }

    private struct Payload: Decodable {
        struct Amount: Decodable { let currency: String; let minorUnits: Int64 }
        struct Claim: Decodable { let skill: String; let level: Int }
        let freelancerId: UUID?
        let gigId: UUID?
        let clientId: UUID?
        let contractId: UUID?
        let skills: FlexibleSkills?
        let hourlyRate: Amount?
        let hoursPerWeek: Int?
        let budgetMin: Amount?
        let budgetMax: Amount?
        let authorSide: String?
        let rating: Int?

        /// Freelancer skills are objects, gig skills are slugs.
        enum FlexibleSkills: Decodable {
            case claims([Claim])
            case slugs([String])
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let claims = try? container.decode([Claim].self) { self = .claims(claims) } else { self = .slugs(try container.decode([String].self)) }
            }
        }
    }

    public func apply(_ event: RecordedEvent, on connection: Connection) async throws {
        let types: Set<String> = ["FreelancerRegistered", "SkillsUpdated", "RateChanged", "AvailabilityChanged", "GigPosted", "BidAccepted",
                                  "GigClosed", "ContractStarted", "ContractCompleted", "ContractCancelled", "ReviewSubmitted"]
        guard types.contains(event.type) else { return }
        let d: Payload
        do { d = try event.data.decode(Payload.self) } catch {
            throw UnhandledEvent(event: event, reason: "its data does not decode as \(event.type): \(error)")
        }
        func missing(_ what: String) -> UnhandledEvent { UnhandledEvent(event: event, reason: "\(event.type) without \(what)") }
        switch event.type {
        case "FreelancerRegistered":
            guard let id = d.freelancerId, let rate = d.hourlyRate, let hours = d.hoursPerWeek, case .claims(let claims)? = d.skills else { throw missing("freelancerId, skills, rate or hours") }
            try await connection.execute("""
                INSERT INTO match_freelancers_v1 (freelancer_id, hourly_rate_minor, currency, hours_per_week, registered_at)
                VALUES (\(id), \(rate.minorUnits), \(rate.currency), \(hours), \(event.occurredAt)) ON CONFLICT DO NOTHING
                """)
            try await replaceSkills(id, claims, connection)
        case "SkillsUpdated":
            guard let id = d.freelancerId, case .claims(let claims)? = d.skills else { throw missing("freelancerId or skills") }
            try await replaceSkills(id, claims, connection)
        case "RateChanged":
            guard let id = d.freelancerId, let rate = d.hourlyRate else { throw missing("freelancerId or hourlyRate") }
            try await connection.execute("UPDATE match_freelancers_v1 SET hourly_rate_minor = \(rate.minorUnits), currency = \(rate.currency) WHERE freelancer_id = \(id)")
        case "AvailabilityChanged":
            guard let id = d.freelancerId, let hours = d.hoursPerWeek else { throw missing("freelancerId or hoursPerWeek") }
            try await connection.execute("UPDATE match_freelancers_v1 SET hours_per_week = \(hours) WHERE freelancer_id = \(id)")
        case "GigPosted":
            guard let gig = d.gigId, let client = d.clientId, let min = d.budgetMin, let max = d.budgetMax, case .slugs(let skills)? = d.skills else { throw missing("gig, client, budget or skills") }
            try await connection.execute("""
                INSERT INTO match_gigs_v1 (gig_id, client_id, currency, budget_min_minor, budget_max_minor, skills, status, posted_at)
                VALUES (\(gig), \(client), \(max.currency), \(min.minorUnits), \(max.minorUnits), \(skills)::text[], 'open', \(event.occurredAt))
                ON CONFLICT DO NOTHING
                """)
        case "BidAccepted", "GigClosed":
            guard let gig = d.gigId else { throw missing("gigId") }
            try await connection.execute("UPDATE match_gigs_v1 SET status = 'closed' WHERE gig_id = \(gig)")
        case "ContractStarted":
            guard let contract = d.contractId, let freelancer = d.freelancerId else { throw missing("contractId or freelancerId") }
            try await connection.execute("INSERT INTO match_contracts_v1 (contract_id, freelancer_id) VALUES (\(contract), \(freelancer)) ON CONFLICT DO NOTHING")
            try await connection.execute("""
                UPDATE match_freelancers_v1 SET contracts_started = contracts_started + 1, active_contracts = active_contracts + 1
                WHERE freelancer_id = \(freelancer)
                """)
        case "ContractCompleted", "ContractCancelled":
            guard let contract = d.contractId else { throw missing("contractId") }
            let column: SQL = event.type == "ContractCompleted" ? "completed = completed + 1" : "failed = failed + 1"
            try await connection.execute("""
                UPDATE match_freelancers_v1 f SET \(column), active_contracts = greatest(0, active_contracts - 1)
                FROM match_contracts_v1 c
                WHERE c.contract_id = \(contract) AND NOT c.ended AND f.freelancer_id = c.freelancer_id
                """)
            try await connection.execute("UPDATE match_contracts_v1 SET ended = true WHERE contract_id = \(contract)")
        default: // ReviewSubmitted: the client's review rates the freelancer
            guard let contract = d.contractId, let rating = d.rating else { throw missing("contractId or rating") }
            guard d.authorSide == "client" else { return }
            try await connection.execute("""
                UPDATE match_freelancers_v1 f SET ratings_sum = ratings_sum + \(rating), ratings_n = ratings_n + 1
                FROM match_contracts_v1 c WHERE c.contract_id = \(contract) AND f.freelancer_id = c.freelancer_id
                """)
        }
    }

    private func replaceSkills(_ id: UUID, _ claims: [Payload.Claim], _ connection: Connection) async throws {
        try await connection.execute("DELETE FROM match_freelancer_skills_v1 WHERE freelancer_id = \(id)")
        try await connection.execute("""
            INSERT INTO match_freelancer_skills_v1 (freelancer_id, skill, level)
            SELECT \(id), s, l FROM unnest(\(claims.map(\.skill))::text[], \(claims.map { Int32($0.level) })::int4[]) AS t(s, l)
            ON CONFLICT (freelancer_id, skill) DO UPDATE SET level = EXCLUDED.level
            """)
    }
}
