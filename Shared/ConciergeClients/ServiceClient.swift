import ConciergeAuth
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import Synchronization

/// Why a typed call failed: the service answered with a problem, or no answer came.
public enum ServiceError: Error, Sendable, CustomStringConvertible {
    /// The service answered with an error status and this problem document.
    case problem(Problem)
    /// No HTTP answer (down, timed out, connection broke).
    case unreachable(HTTPClientError)
    /// A 2xx answer whose body was not the expected JSON; the text names what was expected and
    /// never carries a decoder's message, as it may end up in a problem detail.
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .problem(let problem): "\(problem.status) \(problem.title): \(problem.detail ?? "")"
        case .unreachable(let error): "unreachable: \(error)"
        case .invalidResponse(let why): "invalid response: \(why)"
        }
    }

    /// What a problem detail of ours may say about this failure: the status, or what was expected, or
    /// why no answer came — never text the other service (or a proxy in between) wrote.
    public var summary: String {
        switch self {
        case .problem(let problem): "it answered HTTP \(problem.status)"
        case .unreachable(let error): "unreachable: \(error)"
        case .invalidResponse(let why): why
        }
    }

    /// The HTTP status if the service answered.
    public var status: Int? {
        if case .problem(let problem) = self { return problem.status }
        return nil
    }
}

/// Supplies the bearer token for each call (a fixed token, or one minted per call).
public struct TokenSource: Sendable {
    private let make: @Sendable () -> String
    public init(_ make: @escaping @Sendable () -> String) { self.make = make }
    public static func fixed(_ token: String) -> TokenSource { TokenSource { token } }
    /// Short-lived `service` tokens for calls between services: one lives 5 minutes and is reused
    /// until a minute before it expires, so a call does not pay for an HMAC signature.
    public static func service(_ name: String, signer: JWTSigner) -> TokenSource {
        let cache = ServiceTokenCache(name: name, signer: signer)
        return TokenSource { cache.current() }
    }
    public var token: String { make() }
}

/// The `service` token in use and when to mint the next.
private final class ServiceTokenCache: Sendable {
    private let name: String
    private let signer: JWTSigner
    private let token = Mutex<(value: String, renewAt: UInt64)?>(nil)

    init(name: String, signer: JWTSigner) {
        self.name = name
        self.signer = signer
    }

    func current() -> String {
        let now = UInt64(Date().timeIntervalSince1970)
        return token.withLock { cached in
            if let cached, now < cached.renewAt { return cached.value }
            let value = signer.mint(sub: name, role: .service, ttl: 300)
            cached = (value, now + 240)
            return value
        }
    }
}

/// Shared plumbing of the typed clients: base URL, token, JSON in and out, errors.
public struct ServiceClient: Sendable {
    public let baseURL: String
    public let tokens: TokenSource?
    public let http: HTTPClient
    /// Seconds per call; default 5.
    public var timeout: Double

    public init(baseURL: String, tokens: TokenSource?, http: HTTPClient = .shared, timeout: Double = 5) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.tokens = tokens
        self.http = http
        self.timeout = timeout
    }

    /// Sends a request and returns the raw answer, whatever its status.
    public func raw(
        _ method: String, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json",
        headers: [(name: String, value: String)] = []
    ) async throws(ServiceError) -> ClientResponse {
        var allHeaders = headers
        if let tokens { allHeaders.append(("Authorization", "Bearer \(tokens.token)")) }
        if body != nil { allHeaders.append(("Content-Type", contentType)) }
        allHeaders.append(("Accept", "application/json"))
        let request = ClientRequest(method: method, url: baseURL + path, headers: allHeaders, body: body ?? [])
        do {
            return try await http.send(request, timeout: timeout)
        } catch {
            throw .unreachable(error)
        }
    }

    /// Sends JSON (if any) and decodes a JSON answer; a non-2xx answer throws its problem.
    public func call<Output: Decodable>(
        _ method: String, _ path: String, body: (any Encodable & Sendable)? = nil,
        headers: [(name: String, value: String)] = [], as output: Output.Type = Output.self
    ) async throws(ServiceError) -> Output {
        let response = try await send(method, path, body: body, headers: headers)
        if let output = JSONCoding.readFast(Output.self, from: response.body) { return output }
        do {
            return try JSONDecoder().decode(Output.self, from: Data(response.body))
        } catch {
            // The decoder's own text (coding paths, Swift type names) would reach problem details that
            // callers build from this error: it says what was expected, not how decoding failed.
            throw .invalidResponse("the answer is not the expected \(Output.self) JSON")
        }
    }

    /// Like `call` for answers without a body worth decoding (204 or ignored).
    public func send(
        _ method: String, _ path: String, body: (any Encodable & Sendable)? = nil,
        headers: [(name: String, value: String)] = []
    ) async throws(ServiceError) -> ClientResponse {
        var bytes: [UInt8]?
        if let body {
            do { bytes = try JSONCoding.encode(body) } catch {
                throw .invalidResponse("the request body cannot be encoded")
            }
        }
        let response = try await raw(method, path, body: bytes, headers: headers)
        guard response.isSuccess else { throw .problem(Self.problem(from: response)) }
        return response
    }

    public static func problem(from response: ClientResponse) -> Problem {
        if let problem = try? JSONDecoder().decode(Problem.self, from: Data(response.body)) { return problem }
        return Problem(
            status: response.status, title: "HTTP \(response.status)",
            detail: String(decoding: response.body.prefix(200), as: UTF8.self))
    }
}

/// Builds `?a=b&c=d` from optional values, percent-encoded, skipping `nil`s.
public func queryString(_ items: [(String, String?)]) -> String {
    let parts = items.compactMap { name, value in value.map { "\(name)=\(URLCoding.encodeComponent($0))" } }
    return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
}
