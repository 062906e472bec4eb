#if canImport(Glibc)
import Glibc
#endif

/// Writes one line to standard error, prefixed with the program name.
func printError(_ message: String) {
    var line = "flowaudit: " + message + "\n"
    line.withUTF8 { buffer in
        // SAFETY: the pointer and count describe the UTF-8 bytes of `line`, valid for the call.
        _ = unsafe write(2, buffer.baseAddress, buffer.count)
    }
}
