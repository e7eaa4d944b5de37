import Foundation
import GigLedger

extension MasterKey {
    /// The local cluster's master key (`.gigledger/master-key`, made by scripts/db-up or here),
    /// the one gigctl finds on its own in this checkout: tests and the CLI they drive agree on it.
    public static let forTests: MasterKey = {
        do { return try MasterKey.localDevelopmentKey(in: checkoutRoot) } catch {
            preconditionFailure("The test master key cannot be made: \(error)")
        }
    }()

    /// The file holding ``forTests``: what a gigctl started in another folder is given in
    /// `GIGLEDGER_MASTER_KEY_FILE` (it would not find the checkout's key from there).
    public static var testKeyFile: String {
        _ = forTests
        return checkoutRoot + "/.gigledger/master-key"
    }

    private static let checkoutRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
}
