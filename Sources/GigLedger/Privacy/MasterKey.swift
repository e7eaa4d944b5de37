import Crypto
import Foundation

/// The key that wraps every data key (AES-256). It comes from a file or an environment variable
/// named in configuration, never from the database; the database records only its id (an HMAC
/// of a constant under the key), so a wrong key is refused before anything is written.
///
/// Where it is read from, first match wins: an explicit file (`gigctl --master-key-file`),
/// the file named by `GIGLEDGER_MASTER_KEY_FILE`, the base64 value of `GIGLEDGER_MASTER_KEY`,
/// and last, for the local development cluster only, `.gigledger/master-key` found from the
/// current folder upwards (written by `scripts/db-up` beside `.gigledger/database-url`).
/// A key is 32 random bytes in base64 (`gigctl privacy new-master-key`).
public struct MasterKey: Sendable {
    let key: SymmetricKey
    /// `mk-` and 16 hex digits: HMAC-SHA256 of a constant under the key, truncated.
    public let id: String

    /// The environment variable naming the key's file.
    public static let fileVariable = "GIGLEDGER_MASTER_KEY_FILE"
    /// The environment variable holding the key itself (base64).
    public static let valueVariable = "GIGLEDGER_MASTER_KEY"

    /// A key from its base64 text (surrounding white space ignored).
    ///
    /// - Throws: ``PrivacyError/Code/masterKeyInvalid`` unless it is 32 bytes of base64.
    public init(base64 text: String) throws(PrivacyError) {
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32
        else {
            throw PrivacyError(
                .masterKeyInvalid,
                "The master key is not 32 bytes in base64. Make one with `gigctl privacy new-master-key` and keep it outside the database."
            )
        }
        key = SymmetricKey(data: bytes)
        let mac = HMAC<SHA256>.authenticationCode(for: Data("gigledger master key id".utf8), using: key)
        id = "mk-" + Data(mac).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// The configured key: `file` if given, else `GIGLEDGER_MASTER_KEY_FILE`, else `GIGLEDGER_MASTER_KEY`.
    ///
    /// - Throws: ``PrivacyError/Code/masterKeyMissing`` when none is configured,
    ///   ``PrivacyError/Code/masterKeyInvalid`` when the file cannot be read or holds no key.
    public static func configured(
        file: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        searchingFrom folder: String? = FileManager.default.currentDirectoryPath
    ) throws(PrivacyError) -> MasterKey {
        let path = file.flatMap { $0.isEmpty ? nil : $0 } ?? environment[fileVariable].flatMap { $0.isEmpty ? nil : $0 }
        if let path {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw PrivacyError(
                    .masterKeyInvalid,
                    "The master key file \(path) cannot be read: check the path in --master-key-file or \(fileVariable) and its permissions."
                )
            }
            return try MasterKey(base64: text)
        }
        if let value = environment[valueVariable], !value.isEmpty { return try MasterKey(base64: value) }
        if let folder, let local = localFile(searchingFrom: folder),
            let text = try? String(contentsOfFile: local, encoding: .utf8)
        {
            return try MasterKey(base64: text)
        }
        throw PrivacyError(
            .masterKeyMissing,
            "No master key is configured, so personal data can be neither written nor read: set \(fileVariable) to a key file (or \(valueVariable) to the key, or pass --master-key-file). `gigctl privacy new-master-key` makes one."
        )
    }

    /// `.gigledger/master-key` in `folder` or the nearest folder above it that has one.
    static func localFile(searchingFrom folder: String) -> String? {
        var url = URL(fileURLWithPath: folder)
        for _ in 0..<12 {
            let file = url.appendingPathComponent(".gigledger/master-key").path
            if FileManager.default.fileExists(atPath: file) { return file }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { break }
            url = parent
        }
        return nil
    }

    /// The local development cluster's key in `folder/.gigledger/master-key`, made (owner-only)
    /// when missing: what `scripts/db-up` writes, for tests that run without it.
    public static func localDevelopmentKey(in folder: String) throws(PrivacyError) -> MasterKey {
        let directory = folder + "/.gigledger"
        let file = directory + "/master-key"
        if !FileManager.default.fileExists(atPath: file) {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // Created exclusively, so two processes starting at once agree on one key.
            let fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            if fd >= 0 {
                let text = generate() + "\n"
                _ = text.withCString { write(fd, $0, strlen($0)) }
                close(fd)
            }
        }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw PrivacyError(.masterKeyInvalid, "The local master key file \(file) cannot be read.")
        }
        return try MasterKey(base64: text)
    }

    /// A new random key, in base64.
    public static func generate() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// `dataKey` sealed for storage: nonce ‖ ciphertext ‖ tag (60 bytes), bound to `subject`.
    func wrap(_ dataKey: SymmetricKey, for subject: String) throws -> Data {
        let bytes = dataKey.withUnsafeBytes { Data($0) }
        guard let combined = try AES.GCM.seal(bytes, using: key, authenticating: Data(subject.utf8)).combined else {
            throw PrivacyError(.corruptKey, "AES-GCM gave no combined box for a data key.")
        }
        return combined
    }

    /// The data key of `subject` from its wrapped form.
    func unwrap(_ wrapped: Data, for subject: String) throws(PrivacyError) -> SymmetricKey {
        do {
            let box = try AES.GCM.SealedBox(combined: wrapped)
            return SymmetricKey(data: try AES.GCM.open(box, using: key, authenticating: Data(subject.utf8)))
        } catch {
            throw PrivacyError(
                .corruptKey,
                "The data key of \(subject) does not open with master key \(id): the key row is corrupt or was wrapped by another master key.",
                cause: error)
        }
    }
}
