import ConciergeCore
import ConciergeLogging
import ConciergeModels
import Foundation
import HTTPServer
import ServiceRuntime

/// HTTP shape of /v1/customers and /v1/lookup (SPEC §7): directory upserts and import, and lookups that
/// answer 200 whether found or not.
struct CustomerRoutes: Sendable {
    let customers: CustomerStore
    let sources: SourceLookup
    let metrics: Metrics

    static let lookupsHelp = "CRM lookups by source."

    func register(on router: Router) {
        metrics.declare("concierge_crm_lookups_total", help: Self.lookupsHelp, labelSets: [[("source", "directory")]])
        router.post("/v1/customers", access: .administrators, upsert)
        router.post("/v1/customers/import", access: .administrators, streamsBody: true, importCustomers)
        router.get("/v1/customers/{id}", access: .services, get)
        router.delete("/v1/customers/{id}", access: .administrators, delete)
        router.get("/v1/lookup", access: .services, lookup)
    }

    @Sendable func upsert(_ request: Request, _ context: RequestContext) async throws -> Response {
        let draft = try CustomerDraft(try request.decode(CustomerInput.self))
        let (customer, created) = try customers.upsert(draft)
        return try .json(customer, status: created ? 201 : 200)
    }

    /// NDJSON or CSV, streamed to disk by the server, then read record by record.
    @Sendable func importCustomers(_ request: Request, _ context: RequestContext) async throws -> Response {
        let mediaType = request.header("content-type")?.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        let format: CustomerImport.Format
        switch mediaType {
        case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines":
            format = .ndjson
        case "text/csv": format = .csv
        default:
            throw Problem(
                status: 415, title: "Unsupported media type", detail: "Send application/x-ndjson or text/csv.")
        }
        guard let path = request.bodyFile else {
            throw CRMError.invalid(field: "body", message: "The body is missing.")
        }
        let result = try await CustomerImport.run(store: customers, format: format, path: path)
        context.logger.info(
            "customers imported",
            [
                "imported": String(result.imported), "updated": String(result.updated),
                "rejected": String(result.rejectedCount),
            ])
        return try .json(result)
    }

    @Sendable func get(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try customers.get(try context.parameters.require("id")))
    }

    @Sendable func delete(_ request: Request, _ context: RequestContext) async throws -> Response {
        try customers.delete(try context.parameters.require("id"))
        return .noContent()
    }

    /// `?email=` or `?phone=`, optional `&source=`; 200 whether found or not.
    @Sendable func lookup(_ request: Request, _ context: RequestContext) async throws -> Response {
        let query = request.query
        let field: String
        let value: String
        if let raw = query["email"] {
            guard let email = Addresses.email(raw) else {
                throw CRMError.invalid(field: "email", message: "email is not a valid email address.")
            }
            (field, value) = ("email", email)
        } else if let raw = query["phone"] {
            guard let phone = Addresses.e164(raw) else {
                throw CRMError.invalid(field: "phone", message: "phone must be an E.164 number starting with +.")
            }
            (field, value) = ("phone", phone)
        } else {
            throw CRMError.invalid(field: "email", message: "Give email or phone to look up.")
        }
        let source = query["source"].flatMap { $0.isEmpty || $0 == "directory" ? nil : $0 }
        metrics.increment(
            "concierge_crm_lookups_total", labels: [("source", source ?? "directory")], help: Self.lookupsHelp)
        if let source {
            return try .json(try await sources.lookup(source: source, by: field, value: value))
        }
        // The stored record is already the answer's JSON: splice it in without decoding.
        guard let record = try customers.record(column: field, value: value) else { return .json(bytes: Self.notFound) }
        var body = Self.foundPrefix
        body.reserveCapacity(body.count + record.count + 1)
        body.append(contentsOf: record)
        body.append(UInt8(ascii: "}"))
        return .json(bytes: body)
    }

    private static let notFound = Array(#"{"found":false,"source":"directory","stale":false}"#.utf8)
    private static let foundPrefix = Array(#"{"found":true,"source":"directory","stale":false,"data":"#.utf8)
}
