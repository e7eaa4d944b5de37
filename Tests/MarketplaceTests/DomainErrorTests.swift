import Foundation
import Marketplace
import Testing

@Suite struct DomainErrorTests {
    /// Codes are an API: clients match on them. This list only ever grows.
    @Test func codesAreStable() {
        let expected = [
            "INVALID_INPUT", "INVALID_BUDGET", "INVALID_AMOUNT", "AMOUNT_OVERFLOW", "INVALID_RATING", "UNKNOWN_SKILL",
            "UNKNOWN_CURRENCY", "CURRENCY_MISMATCH", "INVALID_STREAM_NAME", "NOT_ALLOWED", "NOT_GIG_OWNER",
            "NOT_CONTRACT_FREELANCER", "NOT_CONTRACT_CLIENT", "SELF_BID", "FREELANCER_NOT_FOUND", "CLIENT_NOT_FOUND",
            "GIG_NOT_FOUND", "BID_NOT_FOUND", "CONTRACT_NOT_FOUND", "ALREADY_REGISTERED", "ID_IN_USE", "GIG_NOT_OPEN",
            "BIDDING_CLOSED", "DEADLINE_NOT_PASSED", "DUPLICATE_BID", "BID_NOT_LIVE", "GIG_ALREADY_AWARDED",
            "GIG_NOT_AWARDED",
            "CONTRACT_NOT_ACTIVE", "CONTRACT_DISPUTED", "DELIVERY_PENDING", "NO_PENDING_DELIVERY", "REVIEW_WINDOW_OPEN",
            "NOTHING_TO_DISPUTE", "CONTRACT_NOT_ENDED", "DUPLICATE_REVIEW", "UNKNOWN_EVENT_TYPE",
            "UNSUPPORTED_SCHEMA_VERSION",
            "UNDECODABLE_EVENT", "UNENCODABLE_EVENT",
        ]
        #expect(DomainError.Code.allCodes.map(\.rawValue) == expected)
        #expect(DomainError.Code.gigNotOpen.rawValue == "GIG_NOT_OPEN")
        #expect(DomainError.Code.gigNotOpen == .gigNotOpen)
        #expect(DomainError.Code.gigNotOpen != .bidNotLive)
    }

    @Test func describesCodeMessageAndCause() {
        struct Underlying: Error, Sendable {}
        let error = DomainError(.undecodableEvent, "The data does not decode.", cause: Underlying())
        #expect(error.description.hasPrefix("UNDECODABLE_EVENT: The data does not decode. (cause: "))
        #expect(DomainError(.gigNotOpen, "Closed.").description == "GIG_NOT_OPEN: Closed.")
    }

    @Test func messagesNeverEchoFreeText() {
        let secret = "my-secret-title\u{7}"
        let command = GigCommand.postGig(
            .init(
                context: Fixtures.context(.client(Fixtures.clientA)), gigID: Fixtures.gigA, clientID: Fixtures.clientA,
                title: secret, description: "", skills: ["nlp"], budgetMin: Fixtures.eur(1), budgetMax: Fixtures.eur(2),
                biddingClosesAt: Fixtures.deadline, clientRegistered: true))
        guard case .failure(let error) = GigDecider.decision(command, .notPosted) else {
            Issue.record("accepted a control character")
            return
        }
        #expect(error.code == .invalidInput)
        #expect(!error.message.contains("my-secret-title"))
        #expect(error.message.contains("title"))
    }
}
