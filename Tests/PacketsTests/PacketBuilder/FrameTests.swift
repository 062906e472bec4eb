import Testing
import Packets
import PacketBuilder

@Suite struct FrameTests {
    let ip = Frame.raw.ipv4(source: "10.0.0.1", destination: "10.0.0.2")

    @Test func ethernetHeaderBytes() {
        let frame = Frame.ethernet(source: "02:00:00:00:00:0a", destination: "ff:ff:ff:ff:ff:ff")
        let bytes = frame.wrap([0xAA, 0xBB], etherType: 0x0800)
        #expect(bytes == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0, 0, 0, 0, 0x0A, 0x08, 0x00, 0xAA, 0xBB])
        #expect(frame.linkType == .ethernet)
        #expect(frame.headerLength == 14)
    }

    @Test func qinqTagsOuterFirst() {
        let frame = Frame.ethernet().serviceVLAN(300, priority: 5).vlan(100, priority: 3, dropEligible: true)
        let bytes = frame.wrap([0x45], etherType: 0x86DD)
        #expect(frame.headerLength == 22)
        // 802.1ad: TPID 88a8, PCP 5, DEI 0, VID 300 = 0xa12c.
        #expect(Array(bytes[12..<16]) == [0x88, 0xA8, 0xA1, 0x2C])
        // 802.1Q: TPID 8100, PCP 3, DEI 1, VID 100 = 0x7064.
        #expect(Array(bytes[16..<20]) == [0x81, 0x00, 0x70, 0x64])
        #expect(Array(bytes[20..<23]) == [0x86, 0xDD, 0x45])
    }

    @Test func tagFieldsAtTheirLimits() {
        #expect(Frame.Tag(id: 4095, priority: 7, dropEligible: true).tci == 0xFFFF)
        #expect(Frame.Tag(id: 0).tci == 0)
    }

    @Test func linuxCookedV1() {
        let bytes = Frame.linuxSLL(packetType: 0, address: "00:11:22:33:44:55").wrap([1], etherType: 0x0800)
        #expect(bytes == [0, 0, 0, 1, 0, 6, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0, 0x08, 0x00, 1])
        #expect(Frame.linuxSLL().linkType == .linuxSLL)
    }

    @Test func linuxCookedV2() {
        let bytes = Frame.linuxSLL2(packetType: 4, interfaceIndex: 7, address: "00:11:22:33:44:55").wrap([1], etherType: 0x86DD)
        #expect(bytes == [0x86, 0xDD, 0, 0, 0, 0, 0, 7, 0, 1, 4, 6, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0, 1])
        #expect(Frame.linuxSLL2().linkType == .linuxSLL2)
    }

    @Test func bsdNullIsLittleEndianAndLoopIsBigEndian() {
        #expect(Frame.null().wrap([9], etherType: 0x0800) == [2, 0, 0, 0, 9])
        #expect(Frame.null(ipv6Family: 30).wrap([9], etherType: 0x86DD) == [30, 0, 0, 0, 9])
        #expect(Frame.null(ipv6Family: 28).wrap([], etherType: 0x86DD) == [28, 0, 0, 0])
        #expect(Frame.loop().wrap([9], etherType: 0x0800) == [0, 0, 0, 2, 9])
        #expect(Frame.loop(ipv6Family: 24).wrap([9], etherType: 0x86DD) == [0, 0, 0, 24, 9])
        #expect(Frame.null().linkType == .null)
        #expect(Frame.loop().linkType == .loop)
    }

    @Test func rawHasNoHeader() {
        #expect(Frame.raw.wrap([1, 2, 3], etherType: 0x0800) == [1, 2, 3])
        #expect(Frame.raw.linkType == .raw)
    }

    @Test func reversedSwapsAddressesAndCookedDirection() {
        let frame = Frame.ethernet(source: "02:00:00:00:00:01", destination: "02:00:00:00:00:02").vlan(5)
        let back = frame.reversed
        #expect(back.source == "02:00:00:00:00:02")
        #expect(back.destination == "02:00:00:00:00:01")
        #expect(back.tags == frame.tags)
        #expect(Frame.linuxSLL(packetType: 4).reversed.packetType == 0)
        #expect(Frame.linuxSLL(packetType: 0).reversed.packetType == 4)
        #expect(Frame.linuxSLL(packetType: 1).reversed.packetType == 1)
    }

    @Test func macAddressText() {
        #expect(Frame.MACAddress(text: "0A-0b-0c-0d-0e-0f")?.bytes == [10, 11, 12, 13, 14, 15])
        #expect(Frame.MACAddress(text: "0a:0b:0c:0d:0e") == nil)
        #expect(Frame.MACAddress(text: "0a:0b:0c:0d:0e:zz") == nil)
        #expect(Frame.MACAddress.broadcast.description == "ff:ff:ff:ff:ff:ff")
    }
}
