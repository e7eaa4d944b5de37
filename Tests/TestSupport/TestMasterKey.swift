import Foundation
import GigLedger

extension MasterKey {
    /// The local cluster's master key (`.gigledger/master-key`, made by scripts/db-up or here),
    /// the one gigctl finds on its own in this checkout: tests and the CLI they drive agree on it.
    public static let forTests: MasterKey = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        do { return try MasterKey.localDevelopmentKey(in: root) } catch {
            preconditionFailure("The test master key cannot be made: \(error)")
        }
    }()
}
