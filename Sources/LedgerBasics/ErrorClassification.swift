import Foundation

/// What kind of failure an error is, seen from a client of GigLedger: the one mapping that the CLI
/// turns into exit codes and a server into HTTP statuses.
///
/// | category | meaning | gigctl exit | HTTP |
/// |---|---|---|---|
/// | ``malformed`` | the request itself is wrong (missing field, bad value, unknown command) | 64 | 400 |
/// | ``rejected`` | a marketplace rule refused it (`GIG_NOT_OPEN`) | 65 | 422 |
/// | ``notFound`` | it names something that does not exist (`GIG_NOT_FOUND`) | 65 | 404 |
/// | ``forbidden`` | the actor may not do this, or the log refuses the change (`NOT_GIG_OWNER`) | 65 | 403 |
/// | ``conflict`` | concurrent writers won every retry; send it again with the same command id | 75 | 409 |
/// | ``unavailable`` | the database could not be reached or the connection broke | 69 | 503 |
/// | ``schemaMissing`` | the database has no (or an edited) GigLedger schema: run `gigctl migrate` | 78 | 503 |
/// | ``internalError`` | a bug or an unreadable stored event | 70 | 500 |
public enum ErrorCategory: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case malformed
    case rejected
    case notFound
    case forbidden
    case conflict
    case unavailable
    case schemaMissing
    case internalError
    public var description: String { rawValue }
}

/// An error of any GigLedger layer, classified: a stable machine `code` (`GIG_NOT_OPEN`,
/// `WRONG_EXPECTED_VERSION`, `NOT_MIGRATED`, …), its ``ErrorCategory``, the message for the person
/// who reads it, and the structured fields the rule names (for a rejection its `rule`, the
/// `command` and `stream`; for a conflict `stream`, `expected`, `actual`; for malformed input the
/// `field`). Fields never hold values a user typed as free text.
///
/// ```swift
/// do { try await service.execute(command) } catch {
///     let classified = ErrorClassification(error)   // any error: typed ones classify themselves
///     switch classified.category { case .rejected: … }
/// }
/// ```
public struct ErrorClassification: Sendable, Hashable, Codable {
    /// Which kind of failure it is; decides the exit code and the HTTP status.
    public var category: ErrorCategory
    /// The stable machine code in upper snake case (`GIG_NOT_OPEN`); clients may switch on it.
    public var code: String
    /// The explanation for the person who sees the error, naming what to do next.
    public var message: String
    /// The structured details the rule names (`rule`, `stream`, `expected`, `field`, …); empty when
    /// there are none.
    public var fields: [String: JSONValue]

    /// Creates a classification from its parts, for an error type's
    /// ``ClassifiedError/classification``.
    public init(_ category: ErrorCategory, code: String, message: String, fields: [String: JSONValue] = [:]) {
        self.category = category
        self.code = code
        self.message = message
        self.fields = fields
    }

    /// Classifies any error: a ``ClassifiedError`` (every GigLedger error type is one) says what
    /// it is; anything else is an ``ErrorCategory/internalError`` with code `INTERNAL_ERROR`.
    public init(_ error: any Error) {
        if let error = error as? any ClassifiedError {
            self = error.classification
        } else if error is CancellationError {
            self.init(.unavailable, code: "CANCELLED", message: "The operation was cancelled before it finished.")
        } else {
            self.init(.internalError, code: "INTERNAL_ERROR", message: "\(error)")
        }
    }
}

/// An error that knows its ``ErrorClassification``. GigLedger's error types conform
/// (`PQError`, ``EventStoreError``, and in their modules `CommandError`, `DomainError`,
/// `ProjectionAdminError`, `ProjectionFailure`); so may an application's own.
public protocol ClassifiedError: Error {
    /// What this error is: category, stable code, message and fields.
    var classification: ErrorClassification { get }
}
