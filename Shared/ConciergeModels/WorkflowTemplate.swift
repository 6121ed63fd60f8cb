import ConciergeJSON

/// A shipped workflow with `<...>` placeholders where a contact centre fills in its own ids, as
/// `GET /v1/workflow/templates` lists it.
public struct WorkflowTemplate: Codable, Sendable {
    public struct Placeholder: Codable, Sendable {
        public var placeholder: String
        public var description: String

        public init(placeholder: String, description: String) {
            self.placeholder = placeholder
            self.description = description
        }
    }

    public var name: String
    public var description: String
    public var placeholders: [Placeholder]
    public var workflow: JSONValue

    public init(name: String, description: String, placeholders: [Placeholder], workflow: JSONValue) {
        self.name = name
        self.description = description
        self.placeholders = placeholders
        self.workflow = workflow
    }
}
