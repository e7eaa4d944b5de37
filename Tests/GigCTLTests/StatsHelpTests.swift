import ArgumentParser
import Testing

@testable import GigCTLCore

@Suite("gigctl match and stats help")
struct StatsHelpTests {
    @Test(arguments: [
        (MatchGig.self as any ParsableCommand.Type, ["<gig>", "--k"]),
        (MatchFreelancer.self, ["<freelancer>"]),
        (MatchExplain.self, ["<gig>", "<freelancer>"]),
        (StatsCompetition.self, ["--gig", "--skill", "--weeks", "withheld"]),
        (StatsPrices.self, ["--skill", "chart", "never mix"]),
        (StatsPriceWars.self, ["Theil–Sen", "bids per gig"]),
    ])
    func helpTeaches(command: any ParsableCommand.Type, mentions: [String]) {
        let help = GigCTL.helpMessage(for: command, columns: 400)
        for word in mentions { #expect(help.contains(word), "\(command) help lacks \(word)") }
        #expect(help.contains("--json"))
    }

    @Test func badIdsAreUsageErrors() async {
        var command = try? GigCTL.parseAsRoot(["match", "gig", "not-a-uuid"]) as? MatchGig
        let error = await #expect(throws: (any Error).self) { try await command?.run() }
        #expect(GigCTL.exitCode(for: error!).rawValue == 64)
        command = nil
    }
}
