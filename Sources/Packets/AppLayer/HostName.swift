/// Host names in the one form every part compares them in: the policy's `names:` and role
/// names, DNS answers, TLS SNI and HTTP Host.
public enum HostName {
    /// Lower case, without the trailing dot of a fully qualified name (`Example.COM.` is
    /// `example.com`).
    public static func normalise(_ name: some StringProtocol) -> String {
        var text = name.lowercased()
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
