import Testing

@testable import CRMLookupService

/// A CSV import names its identity columns in its header.
@Suite struct CSVHeaderTests {
    @Test func aCSVHeaderNeedsAnEmailOrPhoneColumn() throws {
        #expect(throws: CRMError.self) { try CustomerImport.checkHeader(["name", "customerType"]) }
        try CustomerImport.checkHeader(["email"])
        try CustomerImport.checkHeader(["customerType", "phone"])
    }
}
