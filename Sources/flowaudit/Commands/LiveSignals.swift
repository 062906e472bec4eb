import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// The signals of `flowaudit live`, each turned into a call on a dispatch queue (never code in a
/// C signal handler): SIGINT and SIGTERM call `onStop`, SIGHUP calls `onHangUp`. SIGPIPE is
/// ignored, so a write to a closed pipe fails with EPIPE where the writer can handle it.
final class LiveSignals {
    private let sources: [any DispatchSourceSignal]

    init(onStop: @escaping @Sendable () -> Void, onHangUp: @escaping @Sendable () -> Void) {
        signal(SIGPIPE, SIG_IGN)
        var sources: [any DispatchSourceSignal] = []
        for (number, action) in [(SIGINT, onStop), (SIGTERM, onStop), (SIGHUP, onHangUp)] {
            // The default action must not run: the dispatch source sees the signal either way.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: action)
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
