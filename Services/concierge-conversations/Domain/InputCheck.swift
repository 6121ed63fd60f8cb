import ConciergeModels

/// What the conversations service checks in a body before it stores anything from it, public or
/// internal alike: an internal caller is another service, trusted with its token, not with its data.
/// Every stored string goes through `StoredText`; ids must not be empty; timestamps are canonical.
enum InputCheck {
    /// 400 naming `field` when `text` holds a control character the field may not store.
    static func text(_ text: String?, field: String, lines: StoredText.Lines = .single) throws(ConversationError) {
        guard let text, !StoredText.isAllowed(text, lines: lines) else { return }
        throw .invalid(field: field, message: StoredText.refusal(field: field, lines: lines))
    }

    /// 400 naming `field` when an id is empty or holds control characters; `nil` is an absent optional.
    static func id(_ id: String?, field: String) throws(ConversationError) {
        guard let id else { return }
        guard !id.isEmpty else { throw .invalid(field: field, message: "\(field) must not be empty.") }
        try text(id, field: field)
    }

    /// 400 naming `field` unless `value` is a timestamp as the services write them.
    static func timestamp(_ value: String, field: String) throws(ConversationError) {
        if value.isEmpty { throw .invalid(field: field, message: "Missing required field \(field).") }
        guard Timestamp.isCanonical(value) else {
            throw .invalid(field: field, message: "\(field) must be an RFC 3339 UTC timestamp with milliseconds.")
        }
    }

    /// `POST /v1/inbound`: every field it stores.
    static func inbound(_ input: InboundRequest) throws(ConversationError) {
        try text(input.from, field: "from")
        try text(input.name, field: "name")
        try text(input.subject, field: "subject")
        try text(input.body, field: "body", lines: .multiline)
        try id(input.conversationId, field: "conversationId")
        try text(input.externalId, field: "externalId")
    }

    /// `POST /v1/messages/{id}/delivery`: the connector's id for the message and its error, if any.
    static func delivery(_ report: DeliveryReport) throws(ConversationError) {
        if let externalId = report.externalId {
            guard !externalId.isEmpty, !StoredText.exceeds(externalId, maxLength: 255) else {
                throw .invalid(field: "externalId", message: "externalId must be 1 to 255 characters.")
            }
            try text(externalId, field: "externalId")
        }
        if let error = report.error {
            guard !StoredText.exceeds(error, maxLength: 2000) else {
                throw .invalid(field: "error", message: "error must be at most 2000 characters.")
            }
            try text(error, field: "error", lines: .multiline)
        }
    }

    /// `POST /v1/internal/routing-decisions`: `decidedAt` is required there (stale decisions are told
    /// from newer ones by it), though the synchronous `/v1/route` answer may leave it out.
    static func routingDecision(_ decision: RouteResult) throws(ConversationError) {
        try id(decision.conversationId, field: "conversationId")
        try id(decision.assigneeId, field: "assigneeId")
        try id(decision.inboxId, field: "inboxId")
        try id(decision.queueId, field: "queueId")
        guard decision.version >= 0 else { throw .invalid(field: "version", message: "version must not be negative.") }
        try timestamp(decision.decidedAt, field: "decidedAt")
        for (i, tag) in decision.tags.enumerated() { try text(tag, field: "tags[\(i)]") }
        for (i, reply) in decision.replies.enumerated() {
            try text(reply.body, field: "replies[\(i)].body", lines: .multiline)
        }
    }

    /// `POST /v1/internal/contact-snapshots`: the fields the smart-folder tables keep.
    static func snapshot(_ contact: Contact) throws(ConversationError) {
        try id(contact.id, field: "id")
        try timestamp(contact.updatedAt, field: "updatedAt")
        for (i, email) in contact.emails.enumerated() { try text(email, field: "emails[\(i)]") }
        for (i, tag) in contact.tags.enumerated() { try text(tag, field: "tags[\(i)]") }
    }

    /// `POST /v1/internal/contact-merges`.
    static func merge(_ merge: ContactMerged) throws(ConversationError) {
        try id(merge.sourceId, field: "sourceId")
        try id(merge.targetId, field: "targetId")
        guard merge.sourceId != merge.targetId else {
            throw .invalid(field: "targetId", message: "targetId must differ from sourceId.")
        }
    }

    /// `POST /v1/internal/hero-replacements`.
    static func heroReplacement(_ event: HeroReplaced) throws(ConversationError) {
        try id(event.contactId, field: "contactId")
        try id(event.previous.id, field: "previous.id")
        try id(event.hero.id, field: "hero.id")
    }
}
