import Foundation

/// Runs a built executable as an unprivileged user, for tests of file permissions: root reads and
/// writes any file whatever its mode, so a check that a service refuses a file it cannot write means
/// nothing when the service runs as root. Under root the process goes through `setpriv` as user and
/// group 65534 (`nobody`) with no supplementary groups; under any other user it runs as it is.
public enum Unprivileged {
    /// The user id the process runs as: 65534 under root, else the test's own.
    public static var uid: UInt32 { getuid() == 0 ? 65534 : getuid() }
    public static var gid: UInt32 { getuid() == 0 ? 65534 : getgid() }

    static let setpriv = "/usr/bin/setpriv"

    /// Whether processes can be run unprivileged here (false only for root without `setpriv`).
    public static var isAvailable: Bool {
        getuid() != 0 || FileManager.default.isExecutableFile(atPath: setpriv)
    }

    /// The program to start and its arguments, to run `executable` (a built one, by name) unprivileged.
    public static func command(_ executable: String, _ arguments: [String] = []) -> (path: String, arguments: [String])
    {
        let program = Binaries.path(executable)
        guard getuid() == 0 else { return (program, arguments) }
        return (setpriv, ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", program] + arguments)
    }

    /// Runs `executable` unprivileged to its end (killed past `timeout`, which then throws).
    public static func run(
        _ executable: String, _ arguments: [String] = [], environment: [String: String], timeout: Double = 30
    ) async throws -> CLIProcess.Result {
        let (path, argv) = command(executable, arguments)
        return try await CLIProcess.run(path, argv, environment: environment, timeout: timeout)
    }
}
