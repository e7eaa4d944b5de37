import EventStore
import Foundation
import Marketplace

/// An aggregate folded from its stream up to a point: time travel for operators
/// (`gigctl streams state`), personal fields opened (or ``PersonalData/placeholder`` for a
/// forgotten subject).
public struct FoldedStream: Sendable {
    /// The stream's name (`gig-<uuid>`).
    public let stream: String
    /// The version folded to (0: before the first event).
    public let version: Int64
    /// The stream's current version.
    public let currentVersion: Int64
    /// Business and recorded time of the last event folded.
    public let occurredAt: Date?
    /// When the log recorded the last event folded; `nil`, like ``occurredAt``, when no event was
    /// folded (version 0).
    public let recordedAt: Date?
    /// The folded state as JSON (sorted keys).
    public let stateJSON: Data
}

/// Where to stop folding.
public enum FoldPoint: Sendable, Equatable {
    case latest
    /// Up to and including this version.
    case version(Int64)
    /// Events recorded at or before this time.
    case recordedAt(Date)
    /// Events whose business time is at or before this time.
    case occurredAt(Date)
}

extension MarketplaceService {
    /// Folds `stream` with its category's decider up to `point`.
    public func fold(_ name: String, to point: FoldPoint = .latest) async throws -> FoldedStream {
        let stream: MarketplaceStream
        do { stream = try MarketplaceStream(parsing: name) } catch {
            throw CommandError(
                .invalidCommand, "'\(name)' is not a marketplace stream: \(error.message)", domain: error)
        }
        switch stream.category {
        case .freelancer: return try await fold(FreelancerDecider.self, name, to: point)
        case .client: return try await fold(ClientDecider.self, name, to: point)
        case .gig: return try await fold(GigDecider.self, name, to: point)
        case .contract: return try await fold(ContractDecider.self, name, to: point)
        case .privacy: return try await fold(PrivacyDecider.self, name, to: point)
        }
    }

    private func fold<D: Decider>(_ decider: D.Type, _ name: String, to point: FoldPoint) async throws -> FoldedStream
    where D.State: Encodable {
        let streamName = try StreamName(validating: name)
        var state = D.initialState
        var version: Int64 = 0
        var current: Int64 = 0
        var occurred: Date?
        var recorded: Date?
        reading: while true {
            let page = try await store.readStream(streamName, from: current + 1, limit: 1000)
            // Personal fields opened where the subject's key exists, the placeholder where not.
            let revealing = try await vault.revealing(
                page.map { EncodedEvent(type: $0.type, schemaVersion: $0.schemaVersion, data: $0.data.data) },
                in: registry)
            for event in page {
                current = event.version
                switch point {
                case .latest: break
                case .version(let v): if event.version > v { continue }
                case .recordedAt(let t): if event.recordedAt > t { continue }
                case .occurredAt(let t): if event.occurredAt > t { continue }
                }
                do {
                    state = D.evolve(
                        state,
                        try D.Event.decode(
                            type: event.type, schemaVersion: event.schemaVersion, data: event.data.data, in: revealing))
                } catch {
                    throw CommandError(
                        .corruptStream,
                        "Event \(event.position) (\(event.stream) v\(event.version), \(event.type)) cannot be read: \(error.message).",
                        domain: error)
                }
                version = event.version
                occurred = event.occurredAt
                recorded = event.recordedAt
            }
            if page.count < 1000 { break reading }
        }
        if current == 0 {
            throw CommandError(
                .invalidCommand, "Stream \(name) has no events. `gigctl streams list` shows the streams there are.")
        }
        if case .version(let v) = point, v > current || v < 0 {
            throw CommandError(
                .invalidCommand, "Stream \(name) is at version \(current); --at-version must be 0…\(current), not \(v)."
            )
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return FoldedStream(
            stream: name, version: version, currentVersion: current, occurredAt: occurred, recordedAt: recorded,
            stateJSON: try encoder.encode(state))
    }
}
