import Foundation
import Marketplace
import PropertyBased
import Testing

/// Ties are broken by id in the order of the ids' strings; `sortsBefore` gets that order from
/// the bytes.
@Suite("Ids ordered by their bytes, as by their strings")
struct UUIDOrderTests {
    @Test func byteOrderIsStringOrder() async {
        let bytes = Gen<UInt8>.uint8(in: 0...255).array(of: 16...16)
        // Pairs that often share a prefix, so later bytes decide too.
        await propertyCheck(count: 2_000, input: bytes, bytes, Gen.int(in: 0...16)) { a, b, shared in
            let first = UUID(bytes: a)
            let second = UUID(bytes: Array(a.prefix(shared) + b.dropFirst(shared)))
            #expect(first.sortsBefore(second) == (first.uuidString < second.uuidString))
            #expect(second.sortsBefore(first) == (second.uuidString < first.uuidString))
            #expect(!first.sortsBefore(first))
            #expect(
                (FreelancerID(first) < FreelancerID(second))
                    == (first.uuidString.lowercased() < second.uuidString.lowercased()))
        }
    }
}

extension UUID {
    fileprivate init(bytes: [UInt8]) {
        let b = bytes + [UInt8](repeating: 0, count: max(0, 16 - bytes.count))
        self.init(
            uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
        )
    }
}
