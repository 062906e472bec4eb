#if canImport(Glibc)
import Glibc
import Packets
#endif
import Policy

// Everything flowaudit says on standard error has one form, the program name first:
//   flowaudit: error: FILE:LINE:COL: message      (a diagnostic of a rule file or site)
//   flowaudit: error: capture.pcap: byte 1234: message
//   flowaudit: warning: message
//   flowaudit: message                            (progress and status lines of `live`)

/// Writes `flowaudit: error: message` to standard error.
func printError(_ message: String) {
    writeStandardError("flowaudit: error: " + message + "\n")
}

/// Writes `flowaudit: warning: message` to standard error.
func printWarning(_ message: String) {
    writeStandardError("flowaudit: warning: " + message + "\n")
}

/// Writes `flowaudit: message` to standard error: status lines that are neither errors nor warnings.
func printStatus(_ message: String) {
    writeStandardError("flowaudit: " + message + "\n")
}

/// Writes a rule file's or site's diagnostic: `flowaudit: error: FILE:LINE:COL: message`.
func printDiagnostic(_ diagnostic: Diagnostic) {
    writeStandardError("flowaudit: " + diagnostic.description + "\n")
}

/// Writes `text` to standard error as it is, unbuffered.
func writeStandardError(_ text: String) {
    _ = SystemCall.writeAll(2, Array(text.utf8).span)
}
