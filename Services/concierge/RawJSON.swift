/// Finds values inside a JSON document without decoding them, so that they can be passed on byte for
/// byte as the service wrote them (decoding and encoding again would reorder an object's keys).
enum RawJSON {
    /// The bytes of each object in the array that is member `name` of the top-level object, in order;
    /// `nil` when there is no such array. Reads only well-formed JSON (the caller has parsed it).
    static func objects(inArray name: String, of document: [UInt8]) -> [ArraySlice<UInt8>]? {
        let quote = UInt8(ascii: "\"")
        let wanted = Array(name.utf8)
        var depth = 0
        var inString = false
        var escaped = false
        var stringStart = 0
        var lastKey: ArraySlice<UInt8> = []
        var inArray = false
        var objectStart: Int?
        var found: [ArraySlice<UInt8>] = []
        for (index, byte) in document.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == quote {
                    inString = false
                    // A string directly inside the top-level object: a key, or a value (never followed by `[`).
                    if depth == 1 { lastKey = document[(stringStart + 1)..<index] }
                }
                continue
            }
            switch byte {
            case quote:
                inString = true
                stringStart = index
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                if depth == 1, byte == UInt8(ascii: "["), lastKey.elementsEqual(wanted) {
                    inArray = true
                } else if inArray, depth == 2, byte == UInt8(ascii: "{") {
                    objectStart = index
                }
                depth += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if inArray, depth == 2, let start = objectStart {
                    found.append(document[start...index])
                    objectStart = nil
                } else if inArray, depth == 1 {
                    return found
                }
            default:
                continue
            }
        }
        return nil
    }
}
