import ConciergeJSON

/// `CustomerInput` from a parsed `JSONValue`, for the CRM import, which reads a million lines with
/// `JSONParser` instead of `JSONDecoder`.
extension CustomerInput {
    /// Refuses `json` with the 400 problem `JSONCoding.decode(CustomerInput.self, …)` would give: the
    /// first field (in declaration order) of the wrong type. Unknown fields are ignored and `null`
    /// is as good as absent.
    public init(json: JSONValue) throws(Problem) {
        guard case .object(let fields) = json else {
            throw Problem.badRequest("Field (body) has the wrong type; expected an object.")
        }
        self.init(
            email: try Self.string(fields, "email"), phone: try Self.string(fields, "phone"),
            customerType: try Self.string(fields, "customerType"),
            loyaltyStatus: try Self.string(fields, "loyaltyStatus"),
            accountManager: try Self.string(fields, "accountManager"))
        switch fields["lifetimeValue"] {
        case nil, .null?: break
        case .number(let value)?: lifetimeValue = value
        default: throw Self.wrongType("lifetimeValue", expected: "a number")
        }
        switch fields["attributes"] {
        case nil, .null?: break
        case .object(let value)?: attributes = value
        default: throw Self.wrongType("attributes", expected: "an object")
        }
    }

    private static func string(_ fields: [String: JSONValue], _ name: String) throws(Problem) -> String? {
        switch fields[name] {
        case nil, .null?: nil
        case .string(let value)?: value
        default: throw wrongType(name, expected: "a string")
        }
    }

    private static func wrongType(_ field: String, expected: String) -> Problem {
        .badRequest("Field \(field) has the wrong type; expected \(expected).", field: field)
    }
}
