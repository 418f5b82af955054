/// Facts about this build.
public enum InferbenchInfo {
    public static let version = "0.1.0"
}
