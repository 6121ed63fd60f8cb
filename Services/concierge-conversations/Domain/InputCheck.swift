import Models

/// What the conversations service checks in a body before it stores anything from it, public or
/// internal alike: an internal caller is another service, trusted with its token, not with its data.
/// Every stored string goes through `StoredText`; ids must not be empty.
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

    /// `POST /v1/inbound`: every field it stores.
    static func inbound(_ input: InboundRequest) throws(ConversationError) {
        try text(input.from, field: "from")
        try text(input.name, field: "name")
        try text(input.subject, field: "subject")
        try text(input.body, field: "body", lines: .multiline)
        try id(input.conversationId, field: "conversationId")
        try text(input.externalId, field: "externalId")
    }
}
