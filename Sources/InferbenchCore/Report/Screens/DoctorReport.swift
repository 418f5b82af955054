/// One line of `inferbench doctor`: what was checked, what was found, and the fix.
public struct DoctorCheck: Sendable, Equatable {
    public enum Status: String, Sendable { case ok = "ok", warn = "warn", fail = "FAIL", info = "info" }
    public var status: Status
    public var name: String
    public var finding: String
    public var fix: String?

    public init(_ status: Status, _ name: String, _ finding: String, fix: String? = nil) {
        self.status = status
        self.name = name
        self.finding = finding
        self.fix = fix
    }
}

public enum DoctorReport {
    public static func render(_ checks: [DoctorCheck]) -> String {
        let width = checks.map(\.name.count).max() ?? 0
        var out = ""
        for check in checks {
            let pad = String(repeating: " ", count: width - check.name.count)
            out += "\(check.status.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) \(check.name)\(pad)  \(check.finding)\n"
            if let fix = check.fix { out += String(repeating: " ", count: width + 8) + "fix: \(fix)\n" }
        }
        let failures = checks.filter { $0.status == .fail }.count
        let warnings = checks.filter { $0.status == .warn }.count
        out += "\n" + (failures == 0 ? "Ready to benchmark" : "\(failures) problem(s) to fix") + (warnings > 0 ? " (\(warnings) warning(s))" : "") + ".\n"
        return out
    }
}
