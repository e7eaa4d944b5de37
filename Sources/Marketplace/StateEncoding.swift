/// How folded states encode (for `gigctl streams state`): a stream before its first event is
/// `null`; otherwise the entity itself. A status is an object naming its case, with the case's
/// value when it has one: `{"case": "closed", "reason": "expired"}`.
private struct CaseKeys: CodingKey {
    let stringValue: String
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

private func encodeCase(_ name: String, to encoder: any Encoder, _ value: (key: String, value: any Encodable)? = nil)
    throws
{
    var container = encoder.container(keyedBy: CaseKeys.self)
    try container.encode(name, forKey: CaseKeys("case"))
    if let value { try container.encode(value.value, forKey: CaseKeys(value.key)) }
}

private func encodeOptional(_ value: (any Encodable)?, to encoder: any Encoder) throws {
    if let value {
        try value.encode(to: encoder)
    } else {
        var container = encoder.singleValueContainer()
        try container.encodeNil()
    }
}

extension GigState {
    public func encode(to encoder: any Encoder) throws { try encodeOptional(gig, to: encoder) }
}

extension ClientState {
    public func encode(to encoder: any Encoder) throws { try encodeOptional(profile, to: encoder) }
}

extension FreelancerState {
    public func encode(to encoder: any Encoder) throws { try encodeOptional(profile, to: encoder) }
}

extension ContractState {
    public func encode(to encoder: any Encoder) throws { try encodeOptional(contract, to: encoder) }
}

extension PostedGig.Status {
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .open: try encodeCase("open", to: encoder)
        case .awarded: try encodeCase("awarded", to: encoder)
        case .closed(let reason): try encodeCase("closed", to: encoder, ("reason", reason))
        }
    }
}

extension Bid.Status {
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .live: try encodeCase("live", to: encoder)
        case .withdrawn: try encodeCase("withdrawn", to: encoder)
        case .declined(let reason): try encodeCase("declined", to: encoder, ("reason", reason))
        case .accepted: try encodeCase("accepted", to: encoder)
        case .lapsed: try encodeCase("lapsed", to: encoder)
        }
    }
}

extension ContractRecord.Status {
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .active: try encodeCase("active", to: encoder)
        case .delivered(let delivery): try encodeCase("delivered", to: encoder, ("deliveryId", delivery))
        case .disputed(let dispute): try encodeCase("disputed", to: encoder, ("disputeId", dispute))
        case .settling: try encodeCase("settling", to: encoder)
        case .completed: try encodeCase("completed", to: encoder)
        case .cancelled: try encodeCase("cancelled", to: encoder)
        }
    }
}

extension Delivery.Status {
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .pending: try encodeCase("pending", to: encoder)
        case .changesRequested(let note): try encodeCase("changesRequested", to: encoder, ("note", note))
        case .approved(let by): try encodeCase("approved", to: encoder, ("by", by))
        }
    }
}
