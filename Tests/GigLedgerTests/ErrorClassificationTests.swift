import EventStore
import Marketplace
import PQ
import Testing

@testable import GigLedger

@Suite("ErrorClassification: one stable code, category and fields for every GigLedger error")
struct ErrorClassificationTests {
    @Test func domainRulesAreClassifiedByWhatTheyMean() {
        let cases: [(DomainError.Code, ErrorCategory)] = [
            (.gigNotOpen, .rejected), (.gigNotFound, .notFound), (.contractNotFound, .notFound),
            (.notGigOwner, .forbidden), (.notContractClient, .forbidden), (.invalidInput, .malformed),
            (.undecodableEvent, .internalError), (.duplicateBid, .rejected),
        ]
        for (code, category) in cases {
            let classified = ErrorClassification(CommandError.rejected(DomainError(code, "refused")))
            #expect(classified.category == category, "\(code)")
            #expect(classified.code == code.rawValue)
            #expect(classified.fields["rule"] == .string(code.rawValue))
        }
    }

    @Test func databaseFailuresAreClassifiedBySQLState() {
        func server(_ state: SQLState) -> PQError {
            PQError(.server, "failed", server: ServerErrorFields(sqlState: state, message: "failed"))
        }
        #expect(ErrorClassification(server(.undefinedTable)).category == .schemaMissing)
        #expect(ErrorClassification(server(.undefinedTable)).code == "NOT_MIGRATED")
        #expect(ErrorClassification(server(.appendOnlyViolation)).category == .forbidden)
        #expect(ErrorClassification(server(.serializationFailure)).category == .conflict)
        #expect(ErrorClassification(server(.adminShutdown)).category == .unavailable)
        #expect(ErrorClassification(PQError(.poolTimeout, "busy")).category == .unavailable)
        #expect(ErrorClassification(server(.syntaxError)).category == .internalError)
        #expect(ErrorClassification(EventStoreError.wrapping(server(.invalidSchemaName))).code == "NOT_MIGRATED")
        #expect(ErrorClassification(CommandError.wrapping(server(.invalidSchemaName))).category == .schemaMissing)
    }
}
