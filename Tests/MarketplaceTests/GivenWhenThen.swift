import Marketplace
import Testing

/// `Given(events).when(command).then(events)` or `.thenFails(code)`, for any ``Decider``.
struct Given<D: Decider> {
    let state: D.State

    /// The state after `events` of `decider`.
    init(_ decider: D.Type, _ events: [D.Event] = []) {
        state = D.fold(events)
    }

    func when(_ command: D.Command) -> When<D> {
        When(result: D.decision(command, state))
    }
}

struct When<D: Decider> {
    let result: Result<D.Decision, DomainError>

    /// Expects the decision to be `expected`.
    func then(_ expected: D.Decision, sourceLocation: SourceLocation = #_sourceLocation) where D.Decision: Equatable {
        switch result {
        case .success(let decision):
            #expect(decision == expected, sourceLocation: sourceLocation)
        case .failure(let error):
            Issue.record("Expected \(expected), got \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Expects a rejection with `code`.
    func thenFails(_ code: DomainError.Code, sourceLocation: SourceLocation = #_sourceLocation) {
        switch result {
        case .success(let decision):
            Issue.record("Expected \(code), got \(decision)", sourceLocation: sourceLocation)
        case .failure(let error):
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
        }
    }

    /// Expects the command to be accepted (whatever it decides).
    func thenSucceeds(sourceLocation: SourceLocation = #_sourceLocation) {
        _ = decision(sourceLocation: sourceLocation)
    }

    /// The decision, or `nil` (with an issue recorded) on a rejection.
    func decision(sourceLocation: SourceLocation = #_sourceLocation) -> D.Decision? {
        switch result {
        case .success(let decision):
            return decision
        case .failure(let error):
            Issue.record("Expected a decision, got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }
}

extension When where D.Decision == [D.Event] {
    /// Expects the command to decide nothing (it had already taken effect).
    func thenNothing(sourceLocation: SourceLocation = #_sourceLocation) {
        then([], sourceLocation: sourceLocation)
    }
}

extension When where D == GigDecider {
    /// Expects exactly these gig events and no contract events.
    func then(_ gigEvents: [GigEvent], sourceLocation: SourceLocation = #_sourceLocation) {
        guard let decision = decision(sourceLocation: sourceLocation) else { return }
        #expect(decision.gigEvents == gigEvents, sourceLocation: sourceLocation)
        #expect(decision.startedContract == nil, sourceLocation: sourceLocation)
    }

    /// Expects the command to decide nothing (it had already taken effect).
    func thenNothing(sourceLocation: SourceLocation = #_sourceLocation) {
        guard let decision = decision(sourceLocation: sourceLocation) else { return }
        #expect(decision.isEmpty, "\(decision)", sourceLocation: sourceLocation)
    }
}

/// Expects `body` to throw a ``DomainError`` with `code`.
func expectFailure(
    _ code: DomainError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("Expected \(code), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as DomainError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("Expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
}
