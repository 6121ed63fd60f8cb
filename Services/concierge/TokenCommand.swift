import ConciergeAuth
import ConciergeModels

/// `concierge token`: prints one HS256 token for a role, signed with the suite's secret (SPEC §2).
struct TokenCommand: Equatable {
    /// Where the secret file is looked for when neither `--secret-file` nor the variable is given.
    static let defaultSecretFile = "./data/\(Secret.fileName)"

    var role: Role
    /// The `sub` claim; default: the role's name.
    var subject: String
    var lifetime: TokenLifetime
    /// An explicit secret file; it wins over `CONCIERGE_JWT_SECRET` and `CONCIERGE_JWT_SECRET_FILE`.
    var secretFile: String?

    /// Reads `--role` (required), `--sub`, `--ttl` and `--secret-file`.
    init(parsing words: ArraySlice<String>) throws(CLIError) {
        var role: Role?
        var subject: String?
        var lifetime = TokenLifetime.oneHour
        var secretFile: String?
        var reader = OptionReader(words)
        while let option = try reader.next() {
            switch option.name {
            case "--role":
                guard let parsed = Role(rawValue: option.value) else {
                    throw .usage("unknown role \"\(option.value)\": use \(Self.roleNames)")
                }
                role = parsed
            case "--sub":
                guard !option.value.isEmpty else { throw .usage("--sub must not be empty") }
                subject = option.value
            case "--ttl":
                guard let parsed = TokenLifetime(option.value) else {
                    throw .usage("bad --ttl \"\(option.value)\": use 90s, 15m, 1h, 2d or seconds, at most 366d")
                }
                lifetime = parsed
            case "--secret-file":
                guard !option.value.isEmpty else { throw .usage("--secret-file must not be empty") }
                secretFile = option.value
            default:
                throw .usage("token has no option \(option.name)")
            }
        }
        guard let role else { throw .usage("token needs --role: \(Self.roleNames)") }
        self.role = role
        self.subject = subject ?? role.rawValue
        self.lifetime = lifetime
        self.secretFile = secretFile
    }

    /// The signed token, issued at `now` (seconds since 1970).
    /// - Throws: `CLIError.configuration` when no usable secret is found.
    func token(environment: [String: String], now: Int) throws(CLIError) -> String {
        let secret: Secret
        if let secretFile {
            secret = try Secret.read(from: secretFile)
        } else if let fromEnvironment = try Secret.fromEnvironment(environment) {
            secret = fromEnvironment
        } else {
            secret = try Secret.read(from: Self.defaultSecretFile)
        }
        let claims = Claims(sub: subject, role: role, exp: now + lifetime.seconds, iat: now)
        return JWTSigner(secret: secret.value).mint(claims)
    }

    private static var roleNames: String {
        let names = Role.allCases.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
    }
}
