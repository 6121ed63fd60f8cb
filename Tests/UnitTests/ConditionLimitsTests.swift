import ConciergeJSON
import ConciergeModels
import Testing

/// `ConditionParser.Limits`: each bound refuses a tree past it with a message naming it, reading
/// stops at the depth bound, and without limits a tree is read whatever its size.
@Suite struct ConditionLimitsTests {
    static let limits = ConditionParser.Limits(depth: 4, conditions: 10, valueLength: 5, listLength: 3)

    static func parse(_ json: JSONValue, limits: ConditionParser.Limits? = limits) -> (Condition?, [Problem.FieldError])
    {
        var parser = ConditionParser(
            isAllowedField: { $0 == "tag" }, allowsDedicatedHero: false, fieldHelp: "tag", limits: limits)
        let condition = parser.parse(json, at: "rule")
        return (condition, parser.errors)
    }

    static func test(_ value: String = "x") -> JSONValue {
        .object(["field": .string("tag"), "op": .string("equals"), "value": .string(value)])
    }

    static func nested(_ levels: Int) -> JSONValue {
        (1..<levels).reduce(test()) { inner, _ in .object(["not": inner]) }
    }

    @Test func depthCountsEveryAllAnyAndNot() {
        #expect(Self.parse(Self.nested(4)).1.isEmpty)
        let (condition, errors) = Self.parse(Self.nested(5))
        #expect(condition == nil)
        #expect(
            errors == [
                .init(
                    field: "rule.not.not.not.not",
                    message: "Conditions may nest at most 4 levels deep (all, any and not each add one).")
            ])
        // One error, however wide the level past the bound.
        let wide = JSONValue.object([
            "all": .array([
                .object([
                    "any": .array([.object(["not": .object(["all": .array(Array(repeating: Self.test(), count: 5))])])])
                ])
            ])
        ])
        #expect(Self.parse(wide).1.count == 1)
    }

    @Test func readingStopsAtTheDepthBound() {
        // The one error is at level 5: nothing below it was read.
        let (condition, errors) = Self.parse(Self.nested(1_000))
        #expect(condition == nil)
        #expect(errors.map(\.field) == ["rule.not.not.not.not"])
    }

    @Test func conditionsCountEveryNode() {
        let ten = JSONValue.object(["any": .array(Array(repeating: Self.test(), count: 9))])
        #expect(Self.parse(ten).1.isEmpty)
        let eleven = JSONValue.object(["any": .array(Array(repeating: Self.test(), count: 10))])
        let (condition, errors) = Self.parse(eleven)
        #expect(condition == nil)
        #expect(
            errors == [
                .init(
                    field: "rule",
                    message: "At most 10 conditions (field tests, all, any and not) are allowed here; this has 11.")
            ])
    }

    @Test func valuesAndListsAreBounded() {
        #expect(Self.parse(Self.test("æææææ")).1.isEmpty)
        #expect(
            Self.parse(Self.test("ææææææ")).1
                == [.init(field: "rule.value", message: "A value may be at most 5 characters long; this one has 6.")])
        let list = { (count: Int) in
            JSONValue.object([
                "field": .string("tag"), "op": .string("in"), "value": .array((0..<count).map { .string("v\($0)") }),
            ])
        }
        #expect(Self.parse(list(3)).1.isEmpty)
        #expect(
            Self.parse(list(4)).1 == [
                .init(field: "rule.value", message: "An in list may hold at most 3 values; this one holds 4.")
            ])
        let longItem = JSONValue.object([
            "field": .string("tag"), "op": .string("in"), "value": .array([.string("toolong")]),
        ])
        #expect(Self.parse(longItem).1.map(\.field) == ["rule.value"])
    }

    @Test func withoutLimitsAnySizeIsRead() {
        let wide = JSONValue.object([
            "any": .array(Array(repeating: Self.test(String(repeating: "y", count: 1_000)), count: 1_000))
        ])
        let (condition, errors) = Self.parse(wide, limits: nil)
        #expect(errors.isEmpty)
        #expect(condition != nil)
        #expect(Self.parse(Self.nested(200), limits: nil).1.isEmpty)
    }
}
