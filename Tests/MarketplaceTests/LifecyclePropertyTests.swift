import Foundation
import Marketplace
import PropertyBased
import Testing

/// A well-mixed deterministic sequence (SplitMix64), for runs that must not vary.
func splitMix64(_ state: inout UInt64) -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// Random command sequences over the gig and contract lifecycle (see ``LifecycleSimulation``):
/// decide never traps; folding equals stepping; a repeated successful command decides nothing;
/// at most one accepted bid per gig, a contract paid at most once, gross = fee + net, no bid from
/// the gig's own client; stored events read back to the same states.
@Suite struct LifecyclePropertyTests {
    @Test func randomHistoriesKeepTheInvariants() async {
        await propertyCheck(count: 200, input: Gen<UInt64>.value().array(of: 1...150)) { steps in
            var simulation = LifecycleSimulation()
            for step in steps {
                simulation.step(step)
            }
            #expect(throws: Never.self) { try simulation.checkStorageRoundTrip() }
        }
    }

    /// The generator is only worth something if it reaches every event and many rejections.
    @Test func theGeneratorReachesEveryEventType() {
        var coverage = LifecycleSimulation.Coverage()
        var seed: UInt64 = 42
        for _ in 0..<100 {
            var simulation = LifecycleSimulation()
            for _ in 0..<150 {
                simulation.step(splitMix64(&seed))
            }
            coverage.eventTypes.merge(simulation.coverage.eventTypes, uniquingKeysWith: +)
            coverage.rejections.merge(simulation.coverage.rejections, uniquingKeysWith: +)
            coverage.noOps += simulation.coverage.noOps
            coverage.conflicts += simulation.coverage.conflicts
        }
        let expected = Set(
            EventRegistry.marketplace.schemas.filter { [.gig, .contract].contains($0.category) }.map(\.type))
        #expect(Set(coverage.eventTypes.keys) == expected, "missing: \(expected.subtracting(coverage.eventTypes.keys))")
        #expect(coverage.noOps > 0, "\(coverage)")
        #expect(coverage.conflicts > 0)
        for code in [
            DomainError.Code.selfBid, .duplicateBid, .gigAlreadyAwarded, .bidNotLive, .biddingClosed, .deliveryPending,
            .noPendingDelivery, .nothingToDispute, .contractNotEnded, .duplicateReview, .invalidRating,
            .reviewWindowOpen,
        ] {
            #expect(coverage.rejections[code.rawValue, default: 0] > 0, "never rejected with \(code)")
        }
    }

    /// `evolve` is total: any sequence of events, fitting or not, folds without trapping, and
    /// folding equals stepping.
    @Test func evolveIsTotal() async {
        let gigPool =
            EventSamples.gig + [
                Fixtures.bidPlaced(Fixtures.bid(2), by: Fixtures.bob),
                .gigClosed(.init(gigID: Fixtures.gigA, reason: .expired)),
            ]
        let contractPool = EventSamples.contract + [Fixtures.deliverySubmitted(Fixtures.delivery(2))]
        await propertyCheck(input: Gen.int(in: 0...99).array(of: 0...40)) { indexes in
            var gig = GigDecider.initialState
            var contract = ContractDecider.initialState
            for index in indexes {
                gig = GigDecider.evolve(gig, gigPool[index % gigPool.count])
                contract = ContractDecider.evolve(contract, contractPool[index % contractPool.count])
            }
            #expect(GigDecider.fold(indexes.map { gigPool[$0 % gigPool.count] }) == gig)
            #expect(ContractDecider.fold(indexes.map { contractPool[$0 % contractPool.count] }) == contract)
        }
    }
}
