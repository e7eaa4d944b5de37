import Foundation
import PQ

/// Paths of the tools the reliability tests drive: the `gigctl` built beside this test bundle,
/// `psql`, and files of the repository.
enum Tools {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .path

    struct Missing: Error, CustomStringConvertible { let description: String }

    /// The `gigctl` executable of this build (`swift build --build-tests` builds it next to the
    /// test bundle).
    static func gigctl() throws -> String {
        var candidates: [String] = []
        if let override = ProcessInfo.processInfo.environment["GIGCTL"] { candidates.append(override) }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = bundle.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(folder.appendingPathComponent("gigctl").path)
            folder = folder.deletingLastPathComponent()
        }
        candidates.append(repositoryRoot + "/.build/debug/gigctl")
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        throw Missing(
            description:
                "gigctl was not built next to the tests (looked in \(candidates)); run `swift build --build-tests`.")
    }

    /// Runs `psql` on `url` with `arguments`, returning its output (quiet, unaligned).
    static func psql(_ url: String, _ arguments: [String]) async throws -> String {
        let result = try await ChildProcess.run(
            "/usr/bin/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url] + arguments)
        guard result.exitCode == 0 else {
            throw Missing(
                description: "psql failed (\(result.exitCode.map(String.init) ?? "signal")): \(result.stderr)")
        }
        return result.stdout
    }

    /// Mismatches between each projector's read model and its checkpoint (empty: none), from
    /// `scripts/lib/checkpoint-invariants.sql`.
    static func checkpointViolations(_ url: String) async throws -> [String] {
        try await psql(url, ["-f", repositoryRoot + "/scripts/lib/checkpoint-invariants.sql"])
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }
}
