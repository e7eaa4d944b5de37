import Foundation
import Marketplace
import Testing

@Suite struct ActorRefTests {
    @Test func actorsRoundTripThroughTheirStoredForm() throws {
        for actor in [ActorRef.client(Fixtures.clientA), .freelancer(Fixtures.alice), .admin("ops:eu"), .system] {
            #expect(try ActorRef(parsing: actor.description) == actor)
        }
        #expect(ActorRef.system.description == "system")
        #expect(ActorRef.client(Fixtures.clientA).description == "client:\(Fixtures.clientA)")
        for bad in ["", "root", "client:", "client:xyz", "admin:", "freelancer"] {
            #expect(throws: DomainError.self) { try ActorRef(parsing: bad) }
        }
    }

    @Test func encodesAsItsStoredForm() throws {
        let data = try JSONEncoder().encode([ActorRef.freelancer(Fixtures.alice), .system])
        #expect(String(decoding: data, as: UTF8.self) == #"["freelancer:\#(Fixtures.alice)","system"]"#)
        #expect(try JSONDecoder().decode([ActorRef].self, from: data) == [.freelancer(Fixtures.alice), .system])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([ActorRef].self, from: Data(#"["root"]"#.utf8)) }
    }
}
