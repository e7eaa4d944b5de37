import Foundation

/// Figures a reliability test measured (faults injected, commands checked, inputs tried, …),
/// written as JSON to `$GIGLEDGER_FIGURES_DIR/<name>.json` when that variable is set, so
/// `scripts/chaos` can gather them for RELIABILITY.md. Without it, nothing is written.
enum Figures {
    static func record(_ name: String, _ figures: [String: Int]) {
        guard let folder = ProcessInfo.processInfo.environment["GIGLEDGER_FIGURES_DIR"], !folder.isEmpty else { return }
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard let data = try? JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys, .prettyPrinted])
        else { return }
        try? data.write(to: URL(fileURLWithPath: folder).appendingPathComponent("\(name).json"))
    }
}
