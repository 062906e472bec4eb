import LiveCapture
import Packets
import Testing

@Suite struct LiveInterfaceTests {
    @Test func listingIncludesLoopbackWithItsAddress() throws {
        let interfaces = try LiveInterface.interfaces()
        let loopback = try #require(interfaces.first { $0.name == "lo" })
        #expect(loopback.isLoopback)
        #expect(loopback.isUp)
        #expect(loopback.isRunning)
        let addresses = loopback.addresses.map(\.address)
        #expect(addresses.contains(IPAddress("127.0.0.1")!))
        let ipv4 = try #require(loopback.addresses.first { $0.address == IPAddress("127.0.0.1")! })
        #expect(ipv4.netmask == IPAddress("255.0.0.0")!)
    }

    @Test func listingNamesAreUniqueAndNonEmpty() throws {
        let names = try LiveInterface.interfaces().map(\.name)
        #expect(!names.contains(""))
        #expect(Set(names).count == names.count)
    }
}
