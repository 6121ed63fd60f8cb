/// The conditions of a `WHERE` clause and their values, built up one optional filter at a time, so
/// a list's filters read as one line each and a clause never drifts from its values.
public struct SQLConditions {
    private var clauses: [String]
    /// The values of the conditions' `?`s, in order.
    public private(set) var values: [any SQLBindable]

    /// Starts with one condition that always applies.
    public init(_ clause: String, _ values: any SQLBindable...) {
        clauses = [clause]
        self.values = values
    }

    /// Adds `clause` (with as many `?`s as `values`), joined to the others by `AND`.
    public mutating func add(_ clause: String, _ values: any SQLBindable...) {
        clauses.append(clause)
        self.values += values
    }

    /// `a AND b AND …`, for after `WHERE`.
    public var sql: String { clauses.joined(separator: " AND ") }
}
