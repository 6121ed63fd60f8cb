import Foundation

/// What the CLI accepts as a service's URL: `http://` or `https://` with a host. Anything else (most
/// often a forgotten scheme: `localhost:8081`) is a bad URL, said so at once — never taken for a
/// service that is down.
enum URLCheck {
    /// `text` if it is such a URL.
    /// - Parameter variable: the environment variable it came from, named in the error; `nil` for an argument.
    /// - Throws: `CLIError.usage` for an argument, `.configuration` for a variable.
    static func checked(_ text: String, variable: String? = nil) throws(CLIError) -> String {
        if let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty, text.lowercased().hasPrefix(scheme + "://")
        {
            return text
        }
        let hint = text.contains("://") ? "" : ", e.g. http://\(text)"
        let message = "bad URL \"\(text)\": write it as http://host:port\(hint)"
        guard let variable else { throw .usage(message) }
        throw .configuration("\(variable): \(message)")
    }
}
