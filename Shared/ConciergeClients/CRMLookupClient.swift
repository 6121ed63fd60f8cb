import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels

/// Typed client of the CRM-lookup service (SPEC §7): the customer directory and its import, lookups, and
/// external CRM sources.
public struct CRMLookupClient: Sendable {
    public let client: ServiceClient

    public init(baseURL: String, tokens: TokenSource?, http: HTTPClient = .shared, timeout: Double = 5) {
        client = ServiceClient(baseURL: baseURL, tokens: tokens, http: http, timeout: timeout)
    }

    private static func path(_ id: String) -> String { URLCoding.encodeComponent(id) }

    /// Creates or updates the customer owning the email or phone.
    public func upsert(_ customer: CustomerInput) async throws(ServiceError) -> Customer {
        try await client.call("POST", "/v1/customers", body: customer)
    }

    public func customer(_ id: String) async throws(ServiceError) -> Customer {
        try await client.call("GET", "/v1/customers/\(Self.path(id))")
    }

    public func deleteCustomer(_ id: String) async throws(ServiceError) {
        _ = try await client.send("DELETE", "/v1/customers/\(Self.path(id))")
    }

    /// Looks a customer up by email (or phone) in the directory or a named source.
    public func lookup(email: String? = nil, phone: String? = nil, source: String? = nil) async throws(ServiceError)
        -> LookupResult
    {
        let response = try await client.send(
            "GET", "/v1/lookup" + queryString([("email", email), ("phone", phone), ("source", source)]))
        return try Self.lookupResult(response.body)
    }

    /// Reads a lookup answer with `JSONParser`: `JSONDecoder` (through `JSONValue`'s `Decodable`, which tries
    /// each type in turn) was a large share of the routing service's CPU with a workflow doing one lookup per
    /// conversation (`Benchmarks/workflow.sh`; BENCHMARKS.md, "Workflow overhead"). The fields are read as
    /// `Decodable` read them: `found`, `source` and `stale` required with their types, `data` optional
    /// (`null` reads as absent), other keys ignored.
    static func lookupResult(_ body: [UInt8]) throws(ServiceError) -> LookupResult {
        let json: JSONValue
        do {
            json = try JSONParser.parse(body)
        } catch {
            throw .invalidResponse("the answer is not the expected LookupResult JSON")
        }
        guard case .object(let fields) = json else {
            throw .invalidResponse("LookupResult: the answer is \(json.typeName), not an object")
        }
        guard case .bool(let found)? = fields["found"] else {
            throw .invalidResponse("LookupResult: found is missing or not a boolean")
        }
        guard case .string(let source)? = fields["source"] else {
            throw .invalidResponse("LookupResult: source is missing or not a string")
        }
        guard case .bool(let stale)? = fields["stale"] else {
            throw .invalidResponse("LookupResult: stale is missing or not a boolean")
        }
        let data = fields["data"].flatMap { $0 == .null ? nil : $0 }
        return LookupResult(found: found, source: source, stale: stale, data: data)
    }

    /// Streams an import body: `application/x-ndjson` or `text/csv`.
    public func importCustomers(_ body: [UInt8], contentType: String) async throws(ServiceError) -> ImportResult {
        let response = try await client.raw("POST", "/v1/customers/import", body: body, contentType: contentType)
        guard response.isSuccess else { throw .problem(ServiceClient.problem(from: response)) }
        do {
            return try JSONCoding.decode(ImportResult.self, from: response.body)
        } catch {
            throw .invalidResponse("the answer is not the expected ImportResult JSON")
        }
    }

    public func putSource(_ name: String, _ config: SourceConfig) async throws(ServiceError) -> Source {
        try await client.call("PUT", "/v1/sources/\(Self.path(name))", body: config)
    }

    public func sources() async throws(ServiceError) -> Page<Source> {
        try await client.call("GET", "/v1/sources")
    }

    public func deleteSource(_ name: String) async throws(ServiceError) {
        _ = try await client.send("DELETE", "/v1/sources/\(Self.path(name))")
    }
}
