import Foundation
import Marketplace
import Testing

@Suite struct IdentifierTests {
    @Test func encodesAsALowerCaseUUIDString() throws {
        let id = GigID(UUID(uuid: (0xAB, 0xCD, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 1)))
        let data = try JSONEncoder().encode([id])
        #expect(String(decoding: data, as: UTF8.self) == #"["abcd0000-0000-4000-8000-000000000001"]"#)
        let upper = Data(#"["ABCD0000-0000-4000-8000-000000000001"]"#.utf8)
        #expect(try JSONDecoder().decode([GigID].self, from: upper) == [id])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([GigID].self, from: Data(#"["gig-1"]"#.utf8)) }
    }

    @Test func ordersByBytes() {
        let ids = (0..<300).map { Fixtures.bid($0) }.shuffled()
        #expect(ids.sorted().map(\.description) == ids.map(\.description).sorted())
        let low = BidID(UUID(uuid: (0x0A, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 0)))
        let high = BidID(UUID(uuid: (0xA0, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 0)))
        #expect(low < high)
    }

    @Test func mapsIdsToStreamNamesAndBack() throws {
        let gig = Fixtures.gigA
        #expect(gig.streamName == "gig-\(gig.uuid.uuidString.lowercased())")
        #expect(try GigID(streamName: gig.streamName) == gig)
        #expect(Fixtures.alice.streamName.hasPrefix("freelancer-"))
        #expect(Fixtures.clientA.streamName.hasPrefix("client-"))
        #expect(Fixtures.contractA.streamName.hasPrefix("contract-"))
        #expect(try ContractID(streamName: Fixtures.contractA.streamName) == Fixtures.contractA)
        let stream = try MarketplaceStream(parsing: Fixtures.alice.streamName)
        #expect(stream.category == .freelancer && stream.id == Fixtures.alice.uuid)
    }

    @Test(arguments: [
        "gig-", "gig", "-\(UUID().uuidString.lowercased())", "bid-\(UUID().uuidString.lowercased())",
        "gig-\(UUID().uuidString)", "gig-not-a-uuid", "Gig-\(UUID().uuidString.lowercased())",
    ])
    func rejectsMalformedStreamNames(name: String) {
        expectFailure(.invalidStreamName) { _ = try GigID(streamName: name) }
    }

    @Test func rejectsAStreamOfAnotherCategory() {
        expectFailure(.invalidStreamName) { _ = try GigID(streamName: Fixtures.contractA.streamName) }
    }
}
