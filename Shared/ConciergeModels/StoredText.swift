/// The one check every service runs on a string before it stores it: no control characters (C0,
/// DEL, C1), so none can pass for a storage separator (U+001E, U+001F), cut a C string short (NUL)
/// or drive a terminal or log viewer (ESC). Text meant to span lines — a message body, a signature —
/// may hold tab, line feed and carriage return; nothing else.
///
/// It reads the UTF-8 bytes once and allocates nothing, as it runs on the contacts and inbound paths.
public enum StoredText {
    /// Which line breaks a field allows.
    public enum Lines: Sendable {
        /// One line: no control character at all.
        case single
        /// Tab, line feed and carriage return allowed (message bodies).
        case multiline
    }

    /// True when `text` holds no character the field may not store.
    public static func isAllowed(_ text: String, lines: Lines = .single) -> Bool {
        var text = text
        return text.withUTF8 { bytes in isAllowed(bytes, lines: lines) }
    }

    /// As `isAllowed(_:lines:)` on UTF-8 bytes (valid UTF-8, as a `String`'s are).
    public static func isAllowed(_ bytes: UnsafeBufferPointer<UInt8>, lines: Lines = .single) -> Bool {
        var previousWasC2 = false
        for byte in bytes {
            switch byte {
            case 0x09, 0x0A, 0x0D:
                if lines == .single { return false }
            case 0x00..<0x20, 0x7F:
                return false
            case 0x80...0x9F where previousWasC2:
                // U+0080–U+009F (C1 controls) are encoded C2 80 – C2 9F.
                return false
            default:
                break
            }
            previousWasC2 = byte == 0xC2
        }
        return true
    }

    /// The message a refusal carries, naming the field.
    public static func refusal(field: String, lines: Lines = .single) -> String {
        switch lines {
        case .single: "\(field) must not contain control characters."
        case .multiline: "\(field) must not contain control characters other than tab and line breaks."
        }
    }

    /// Length as JSON Schema's `maxLength` counts it (Unicode scalars), stopping once past `limit`,
    /// so a megabyte of text costs no more than `limit` steps.
    public static func exceeds(_ text: String, maxLength limit: Int) -> Bool {
        // A scalar is at least one UTF-8 byte: text this short in bytes cannot exceed the limit.
        if text.utf8.count <= limit { return false }
        var count = 0
        for _ in text.unicodeScalars {
            count += 1
            if count > limit { return true }
        }
        return false
    }
}
