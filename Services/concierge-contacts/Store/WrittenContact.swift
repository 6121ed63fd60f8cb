import ConciergeJSON
import ConciergeModels

/// A contact as a write left it, with its JSON as `GET /v1/contacts/{id}` answers it: encoded once,
/// for the change's event and the route's answer alike (`POST /v1/contacts` and resolve are hot paths).
struct WrittenContact: Sendable {
    let contact: Contact
    let json: [UInt8]

    init(_ contact: Contact) {
        self.contact = contact
        var writer = JSONWriter()
        contact.write(to: &writer)
        json = writer.bytes
    }
}
