import ArgumentParser
import Audit

#if canImport(Glibc)
import Glibc
#endif

/// The progress line of `flows` and `audit` on standard error:
/// `flowaudit: 42% of 1.2 GB, 812,000 packets/s, ETA 0:37`, redrawn in place (carriage return,
/// erase to the end of the line) at most four times a second and erased when reading ends.
///
/// Shown only when standard error is a terminal, every input is a regular file, together larger
/// than the threshold (100 MB), and `--quiet` is not given.
final class ProgressLine {
    /// Inputs smaller than this together get no progress line.
    static let defaultThreshold: Int64 = 100_000_000
    /// Nanoseconds between two redraws.
    static let interval: Int64 = 250_000_000

    let sizes: [Int64]
    let total: Int64
    let started: Int64
    var lastDrawn: Int64 = 0
    var drawn = false
    /// Bytes and packets of the inputs finished before the current one.
    var bytesBefore: Int64 = 0
    var packetsBefore = 0
    var currentInput = 0
    var lastBytes: Int64 = 0
    var lastPackets = 0

    private init(sizes: [Int64]) {
        self.sizes = sizes
        self.total = sizes.reduce(0) { $0.addingReportingOverflow($1).overflow ? .max : $0 + $1 }
        self.started = Self.now()
    }

    /// A progress line for reading `paths`, or nil when none should be shown.
    static func make(paths: [String], quiet: Bool, threshold: Int64) -> ProgressLine? {
        guard !quiet, isatty(2) == 1 else { return nil }
        var sizes: [Int64] = []
        for path in paths {
            var info = stat()
            // SAFETY: stat writes one `stat` into the local.
            guard path != "-", unsafe stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
            sizes.append(Int64(info.st_size))
        }
        let line = ProgressLine(sizes: sizes)
        return line.total > threshold ? line : nil
    }

    static let origin = ContinuousClock.now

    /// Monotonic nanoseconds since the first call.
    static func now() -> Int64 {
        let elapsed = ContinuousClock.now - origin
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }

    /// The hook for ``CaptureRun``.
    var hook: CaptureRun.Progress {
        { [self] input, bytes, packets in self.update(input: input, bytesRead: bytes, packets: packets) }
    }

    func update(input: Int, bytesRead: Int64, packets: Int) {
        if input != currentInput {
            bytesBefore += lastBytes
            packetsBefore += lastPackets
            currentInput = input
        }
        lastBytes = bytesRead
        lastPackets = packets
        let now = Self.now()
        // The first line right away, then four times a second.
        guard !drawn || now - lastDrawn >= Self.interval else { return }
        lastDrawn = now
        drawn = true
        writeStandardError("\r" + Self.text(done: bytesBefore + bytesRead, total: total, packets: packetsBefore + packets,
                                             elapsed: now - started) + "\u{1B}[K")
    }

    /// Erases the line (the report or table follows on a clean line).
    func finish() {
        if drawn { writeStandardError("\r\u{1B}[K") }
    }

    /// `flowaudit: 42% of 1.2 GB, 812,000 packets/s, ETA 0:37`.
    static func text(done: Int64, total: Int64, packets: Int, elapsed: Int64) -> String {
        let fraction = total > 0 ? min(1, Double(max(0, done)) / Double(total)) : 1
        let seconds = Double(max(elapsed, 1)) / 1e9
        let rate = Double(packets) / seconds
        var text = "flowaudit: \(Int(fraction * 100))% of \(bytes(total)), \(grouped(Int(rate))) packets/s, ETA "
        if done > 0 && elapsed > 0 {
            let remaining = Double(max(0, total - done)) / (Double(done) / seconds)
            text += clock(remaining)
        } else {
            text += "-"
        }
        return text
    }

    /// `1.2 GB`, `340 MB` (decimal units, as file sizes are shown by `ls -h --si`).
    static func bytes(_ value: Int64) -> String {
        let units = ["bytes", "kB", "MB", "GB", "TB", "PB"]
        var amount = Double(value)
        var unit = 0
        while amount >= 1000 && unit < units.count - 1 {
            amount /= 1000
            unit += 1
        }
        if unit == 0 { return "\(value) bytes" }
        let rounded = amount < 10 ? (amount * 10).rounded() / 10 : amount.rounded()
        return amount < 10 ? "\(rounded) \(units[unit])" : "\(Int(rounded)) \(units[unit])"
    }

    /// `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }

    /// `0:37`, `12:05`, `1:02:03`.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "-" }
        let total = Int(min(seconds.rounded(), 359_999))
        let h = total / 3600, m = total / 60 % 60, s = total % 60
        let ss = s < 10 ? "0\(s)" : "\(s)"
        if h > 0 { return "\(h):\(m < 10 ? "0\(m)" : "\(m)"):\(ss)" }
        return "\(m):\(ss)"
    }
}

/// `--quiet` and the hidden threshold of the progress line, shared by `flows` and `audit`.
struct ProgressOptions: ParsableArguments {
    @Flag(name: [.customShort("q"), .customLong("quiet")],
          help: "No progress line on standard error (shown on a terminal while reading files larger than 100 MB together).")
    var quiet = false

    @Option(name: .customLong("progress-threshold"), help: ArgumentHelp("Bytes of input above which the progress line is shown.", visibility: .hidden))
    var progressThreshold: Int64 = ProgressLine.defaultThreshold

    func validate() throws {
        guard progressThreshold >= 0 else { throw ValidationError("--progress-threshold must be 0 or more bytes.") }
    }

    func line(for paths: [String]) -> ProgressLine? {
        ProgressLine.make(paths: paths, quiet: quiet, threshold: progressThreshold)
    }
}
