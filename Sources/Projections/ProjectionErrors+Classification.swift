import EventStore

extension ProjectionAdminError: ClassifiedError {
    /// An operator's request the engine cannot carry out as asked (an unknown projection name, a
    /// swap that other objects block): ``ErrorCategory/malformed``, code `INVALID_PROJECTION_REQUEST`.
    public var classification: ErrorClassification {
        ErrorClassification(.malformed, code: "INVALID_PROJECTION_REQUEST", message: description)
    }
}

extension ProjectionFailure: ClassifiedError {
    /// A projector stopped at an event: code `PROJECTOR_FAILED`, with the `projector`, its
    /// `version`, and the event's `position`, `stream` and `type`.
    public var classification: ErrorClassification {
        ErrorClassification(
            .internalError, code: "PROJECTOR_FAILED", message: description,
            fields: [
                "projector": .string(projector), "version": .number(Double(version)),
                "position": .number(Double(position)), "stream": .string(stream), "type": .string(type),
            ])
    }
}

extension ReadQueryError: ClassifiedError {
    /// A read-model query refused as asked (a cursor the list did not return, a limit or
    /// argument out of range): ``ErrorCategory/malformed``, code `INVALID_CURSOR`,
    /// `INVALID_LIMIT` or `INVALID_ARGUMENT`.
    public var classification: ErrorClassification {
        ErrorClassification(.malformed, code: codeName, message: description)
    }
}
