import EventStore
import Foundation
import PQ
import Projections
import TestSupport
import Testing

@Suite("The read contract's roles")
struct ReadContractTests {
    func asRole(_ pool: ConnectionPool, _ role: String, _ sql: SQL) async -> SQLState? {
        do {
            try await pool.withTransaction { conn in
                try await conn.execute("SET LOCAL ROLE \(identifier: role)")
                try await conn.query(sql)
                throw CancellationError()  // always roll back
            }
            return nil
        } catch let error as PQError {
            return error.sqlState
        } catch {
            return nil
        }
    }

    @Test func readersReadTheReadModelsAndNothingElse() async throws {
        let pool = try await TestDatabase.fresh("readcontract")
        let store = EventStore(pool: pool)
        // Tables created by the projector role itself (as in production) are readable too.
        try await pool.withTransaction { conn in
            try await conn.execute("SET LOCAL ROLE gigledger_projector")
            try await conn.execute("SET LOCAL search_path TO read_models")
            for projector in ShippedProjectors.all { try await projector.prepare(on: conn) }
        }
        try await ProjectionEngine(store: store, projectors: ShippedProjectors.all).prepare()
        for table in [
            "competition_gigs_v1", "competition_skill_weeks_v1", "price_weeks_v1", "price_trends_v1",
            "rate_guidance_v1",
            "match_freelancers_v4", "match_freelancer_skills_v4", "match_gigs_v4", "match_experience_v4",
            "projection_status",
            "projection_checkpoints",
        ] {
            #expect(
                await asRole(pool, "gigledger_reader", "SELECT count(*) FROM read_models.\(identifier: table)") == nil,
                "reader cannot read \(table)")
        }
        #expect(await asRole(pool, "gigledger_reader", "SELECT count(*) FROM ledger.events") == .insufficientPrivilege)
        #expect(
            await asRole(pool, "gigledger_reader", "DELETE FROM read_models.competition_gigs_v1")
                == .insufficientPrivilege)
        #expect(await asRole(pool, "gigledger_projector", "DELETE FROM read_models.competition_gigs_v1") == nil)
        #expect(await asRole(pool, "gigledger_projector", "UPDATE ledger.projections SET state = 'idle'") == nil)
    }
}
