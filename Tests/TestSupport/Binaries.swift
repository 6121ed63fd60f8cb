import Foundation

/// Finds the built executables: `CONCIERGE_BIN_DIR`, else the folder holding the running test
/// binary (SwiftPM puts tests and executables side by side in `.build/<config>/`).
public enum Binaries {
    public static var folder: URL {
        if let dir = ProcessInfo.processInfo.environment["CONCIERGE_BIN_DIR"] {
            return URL(fileURLWithPath: dir)
        }
        var url = URL(
            fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? CommandLine.arguments[0]
        ).deletingLastPathComponent()
        // Inside an .xctest bundle directory, climb out of it.
        while url.path != "/" {
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("concierge-contacts").path) {
                return url
            }
            url = url.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    public static func path(_ executable: String) -> String {
        folder.appendingPathComponent(executable).path
    }
}
