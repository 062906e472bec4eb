import Dispatch
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// A TLS connection to a syslog collector (RFC 5425: octet-counted RFC 5424 messages over TLS),
/// through swift-nio-ssl on an event loop thread of its own. The sink's sender thread calls it
/// and waits with timeouts; it never blocks the capture.
final class SyslogTLSChannel: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let context: NIOSSLContext
    private let channel = Mutex<(any Channel)?>(nil)

    /// - Parameter trustRoots: a PEM file of the CAs to trust (a private CA or a self-signed
    ///   collector certificate); nil uses the system's roots.
    init(trustRoots: String?) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let trustRoots { configuration.trustRoots = .file(trustRoots) }
        context = try NIOSSLContext(configuration: configuration)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    deinit {
        try? group.syncShutdownGracefully()
    }

    var isActive: Bool { channel.withLock { $0?.isActive ?? false } }

    /// Connects and completes the TLS handshake (certificate verified, the collector's IP
    /// address against the certificate's subject alternative names), waiting at most `timeout`.
    /// - Returns: nil, or why it failed.
    func connect(endpoint: SyslogEndpoint, timeout: Duration) -> String? {
        close()
        let context = self.context
        let handshake = group.next().makePromise(of: Void.self)
        let milliseconds = Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(milliseconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // An IP address is not a server name (SNI); the certificate is checked against it.
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(promise: handshake))
                }
            }
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<any Channel, any Error>?>(nil)
        bootstrap.connect(host: endpoint.address.description, port: Int(endpoint.port)).flatMap { channel in
            handshake.futureResult.map { channel }
        }.whenComplete { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        if done.wait(timeout: .now() + .milliseconds(Int(milliseconds) + 500)) == .timedOut {
            handshake.fail(ChannelError.connectTimeout(.milliseconds(milliseconds)))
            return "TLS handshake with \(endpoint.target) timed out"
        }
        switch outcome.withLock({ $0 }) {
        case .success(let connected):
            channel.withLock { $0 = connected }
            return nil
        case .failure(let error):
            return "cannot reach syslog collector \(endpoint.target) over TLS: \(error)"
        case nil:
            return "TLS connection to \(endpoint.target) failed"
        }
    }

    /// Hands one message to the connection once it can take more (NIO's write buffer below its
    /// high-water mark), checking `shouldGiveUp` meanwhile.
    func send(_ bytes: [UInt8], wake: WakePipe, shouldGiveUp: () -> Bool) -> SyslogConnection.SendOutcome {
        guard let channel = channel.withLock({ $0 }), channel.isActive else { return .broken }
        while !channel.isWritable {
            if !channel.isActive { return .broken }
            if shouldGiveUp() { return .interrupted }
            wake.wait(milliseconds: 20)
        }
        channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
        return .sent
    }

    /// Closes the connection after what was written has been flushed (at most one second).
    func close() {
        guard let channel = channel.withLock({ current -> (any Channel)? in
            defer { current = nil }
            return current
        }) else { return }
        let done = DispatchSemaphore(value: 0)
        channel.close().whenComplete { _ in done.signal() }
        _ = done.wait(timeout: .now() + .seconds(1))
    }
}

/// Completes a promise when the TLS handshake has finished, or fails it with the first error.
private final class HandshakeWatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<Void>

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event as? TLSUserEvent ?? .shutdownCompleted { promise.succeed(()) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }
}
