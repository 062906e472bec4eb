import PacketBuilder
import Packets
import Testing
@testable import Flows

// Inner flows of every encapsulation the decoder follows. Header layouts and validity rules are
// those of the RFCs and specifications cited in Sources/Packets/Wire/Tunnels.swift; each test
// builds the tunnel with the packet builder and checks the flows the meter hands on.

private let tunnelA = IPAddress("192.0.2.1")!
private let tunnelB = IPAddress("192.0.2.2")!
private let innerClient = Endpoint("10.1.0.5", 40000)
private let innerServer = Endpoint("10.1.0.9", 22)
private let innerClient6 = Endpoint("2001:db8:1::5", 40000)
private let innerServer6 = Endpoint("2001:db8:1::9", 53)

/// An SSH session between the inner endpoints on `link` (Ethernet for layer-2 tunnels, raw IP
/// for layer-3 ones).
private func innerSession(_ link: Frame) -> [TimedFrame] {
    Conversation(link: link).tcpSession(client: innerClient, server: innerServer, at: 10 * second,
                                        clientData: [[1, 2, 3]], serverData: [[4, 5]])
}

/// The outer IPv4 layer from tunnel endpoint A to B on Ethernet.
private var outer: IPLayer { Frame.ethernet().ipv4(source: tunnelA, destination: tunnelB) }

/// The flows of `frames`: the inner ones (with a tunnel) and the outer ones.
private func split(_ frames: [TimedFrame], linkType: LinkType = .ethernet) -> (inner: [Flow], outer: [Flow], statistics: FlowMeterStatistics) {
    let (flows, statistics) = meter(frames, linkType: linkType)
    return (flows.filter { $0.tunnel != nil }, flows.filter { $0.tunnel == nil }, statistics)
}

/// Checks that `flows` holds exactly the inner SSH session, closed, carried by `kind` with `id`.
private func expectInnerSession(_ flows: [Flow], kind: TunnelKind, id: UInt32?, depth: UInt8 = 1,
                                outerSource: IPAddress = tunnelA, outerDestination: IPAddress = tunnelB,
                                sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(flows.count == 1, sourceLocation: sourceLocation)
    guard let flow = flows.first, let tunnel = flow.tunnel else { return }
    #expect(flow.initiator == innerClient.address && flow.initiatorPort == 40000, sourceLocation: sourceLocation)
    #expect(flow.responder == innerServer.address && flow.responderPort == 22, sourceLocation: sourceLocation)
    #expect(flow.state == .closed && flow.initiatorPayloadBytes == 3 && flow.responderPayloadBytes == 2, sourceLocation: sourceLocation)
    #expect(tunnel.kind == kind && tunnel.id == id && tunnel.depth == depth, sourceLocation: sourceLocation)
    #expect(tunnel.outerSource == outerSource && tunnel.outerDestination == outerDestination, sourceLocation: sourceLocation)
}

@Suite struct TunnelTests {
    // MARK: VXLAN, VXLAN-GPE, Geneve

    @Test func vxlanInnerFlowCarriesItsVNI() {
        // RFC 7348 5: UDP destination port 4789, I flag set, 24-bit VNI, inner Ethernet frame.
        let frames = Encapsulation.carry(innerSession(.ethernet())) {
            outer.udp(sourcePort: 49152, destinationPort: 4789, payload: Encapsulation.vxlan(vni: 0xABCDE, frame: $0))
        }
        let (inner, outerFlows, statistics) = split(frames)
        expectInnerSession(inner, kind: .vxlan, id: 0xABCDE)
        // The outer flow is still a UDP flow of its own, with every packet.
        #expect(outerFlows.count == 1 && outerFlows[0].responderPort == 4789 && outerFlows[0].protocolNumber == 17)
        #expect(outerFlows[0].initiatorPackets == UInt64(frames.count))
        #expect(statistics.tunnelledPackets[Int(TunnelKind.vxlan.rawValue)] == UInt64(frames.count))
        #expect(statistics.packets == UInt64(frames.count) && statistics.decoded == UInt64(frames.count))
    }

    @Test func vxlanWithoutTheIFlagIsNotBelieved() {
        // RFC 7348 5: the I flag MUST be 1 for a valid VNI; without it the payload is not VXLAN.
        let frames = Encapsulation.carry(innerSession(.ethernet())) {
            outer.udp(sourcePort: 49152, destinationPort: 4789, payload: Encapsulation.vxlan(vni: 7, flags: 0, frame: $0))
        }
        let (inner, outerFlows, statistics) = split(frames)
        #expect(inner.isEmpty && outerFlows.count == 1)
        #expect(statistics.tunnelledByKind.isEmpty)
    }

    @Test func vxlanInnerQinQAndPPPoEAreFollowed() {
        // 802.1ad service tag, 802.1Q customer tag, then a PPPoE session (RFC 2516) inside VXLAN.
        let link = Frame.ethernet().serviceVLAN(300).vlan(12)
        let frames = Encapsulation.carry(innerSession(.raw)) { ip in
            let pppoe = Encapsulation.pppoe(session: 0x11, pppProtocol: 0x0021, inner: ip)
            return outer.udp(sourcePort: 49152, destinationPort: 4789,
                             payload: Encapsulation.vxlan(vni: 9, frame: link.wrap(pppoe, etherType: 0x8864)))
        }
        let (inner, _, _) = split(frames)
        expectInnerSession(inner, kind: .vxlan, id: 9)
        #expect(inner.first?.vlan == 300)
    }

    @Test func vxlanGPECarriesIPDirectly() {
        // draft-ietf-nvo3-vxlan-gpe 3.1: P flag, next protocol 1 = IPv4, UDP port 4790.
        let frames = Encapsulation.carry(innerSession(.raw)) {
            outer.udp(sourcePort: 49152, destinationPort: 4790, payload: Encapsulation.vxlanGPE(vni: 77, nextProtocol: 1, inner: $0))
        }
        expectInnerSession(split(frames).inner, kind: .vxlanGPE, id: 77)
    }

    @Test func geneveOptionsAreSkipped() {
        // RFC 8926 3.4-3.5: options of 4 + 4*length bytes, total given in the header.
        let options = [Encapsulation.GeneveOption(optionClass: 0x0102, type: 0x80, data: [1, 2, 3, 4, 5, 6, 7, 8]),
                       Encapsulation.GeneveOption(optionClass: 0xFFFF, type: 1, data: [])]
        let frames = Encapsulation.carry(innerSession(.ethernet())) {
            outer.udp(sourcePort: 49152, destinationPort: 6081, payload: Encapsulation.geneve(vni: 0x123456, options: options, inner: $0))
        }
        expectInnerSession(split(frames).inner, kind: .geneve, id: 0x123456)
        let ipFrames = Encapsulation.carry(innerSession(.raw)) {
            outer.udp(sourcePort: 49152, destinationPort: 6081, payload: Encapsulation.geneve(vni: 5, protocolType: 0x0800, inner: $0))
        }
        expectInnerSession(split(ipFrames).inner, kind: .geneve, id: 5)
    }

    @Test func geneveWithBadVersionOrOptionLengthsStaysOuter() {
        // RFC 8926 3.4: version 0 only. An option whose length runs past the option area is malformed.
        let badVersion = Encapsulation.carry(innerSession(.ethernet())) {
            outer.udp(sourcePort: 49152, destinationPort: 6081, payload: Encapsulation.geneve(vni: 5, version: 1, inner: $0))
        }
        #expect(split(badVersion).inner.isEmpty)
        let badOptions = Encapsulation.carry(innerSession(.ethernet())) { frame in
            var payload = Encapsulation.geneve(vni: 5, options: [.init(optionClass: 1, type: 1, data: [0, 0, 0, 0])], inner: frame)
            payload[11] = 0x1F  // the option claims 124 bytes of data in an 8-byte option area
            return outer.udp(sourcePort: 49152, destinationPort: 6081, payload: payload)
        }
        let (inner, outerFlows, _) = split(badOptions)
        #expect(inner.isEmpty && outerFlows.count == 1)
    }

    // MARK: GRE and ERSPAN

    @Test func greKeySequenceAndChecksumAreSkipped() {
        // RFC 2890 2: checksum (C), key (K), sequence (S) words in that order.
        let frames = Encapsulation.carry(innerSession(.raw)) {
            outer.payload(protocol: 47, Encapsulation.gre(protocolType: 0x0800, key: 0xDEAD_BEEF, sequence: 1, checksum: true, inner: $0))
        }
        let (inner, outerFlows, _) = split(frames)
        expectInnerSession(inner, kind: .gre, id: 0xDEAD_BEEF)
        #expect(outerFlows.count == 1 && outerFlows[0].protocolNumber == 47)
        let keyless = Encapsulation.carry(innerSession(.raw)) {
            outer.payload(protocol: 47, Encapsulation.gre(protocolType: 0x0800, inner: $0))
        }
        expectInnerSession(split(keyless).inner, kind: .gre, id: nil)
    }

    @Test func greTransparentEthernetBridgingWithVLAN() {
        // GRE protocol type 0x6558 carries an Ethernet frame; its 802.1Q tag is the inner flow's VLAN.
        let frames = Encapsulation.carry(innerSession(.ethernet().vlan(42))) {
            outer.payload(protocol: 47, Encapsulation.gre(protocolType: 0x6558, key: 3, inner: $0))
        }
        let (inner, _, _) = split(frames)
        expectInnerSession(inner, kind: .gre, id: 3)
        #expect(inner.first?.vlan == 42)
    }

    @Test func greWithReservedBitsOrMismatchedPayloadStaysOuter() {
        // RFC 2784 2.3: a receiver discards a packet with bits 1-5 (routing, strict route) set
        // unless it implements RFC 1701; version 0 only besides PPTP's 1.
        let routing = Encapsulation.carry(innerSession(.raw)) { ip in
            var payload = Encapsulation.gre(protocolType: 0x0800, inner: ip)
            payload[0] |= 0x40
            return outer.payload(protocol: 47, payload)
        }
        #expect(split(routing).inner.isEmpty)
        // Protocol type IPv6 over an IPv4 packet: the version nibble disagrees.
        let mismatched = Encapsulation.carry(innerSession(.raw)) {
            outer.payload(protocol: 47, Encapsulation.gre(protocolType: 0x86DD, inner: $0))
        }
        let (inner, outerFlows, _) = split(mismatched)
        #expect(inner.isEmpty && outerFlows.count == 1)
    }

    @Test func greCarriesMPLS() {
        // GRE protocol type 0x8847: an MPLS label stack (RFC 4023), then IPv4.
        let frames = Encapsulation.carry(innerSession(.raw)) {
            outer.payload(protocol: 47, Encapsulation.gre(protocolType: 0x8847, inner: Encapsulation.mpls(labels: [100, 200], inner: $0)))
        }
        expectInnerSession(split(frames).inner, kind: .gre, id: nil)
    }

    @Test func erspanTypesOneTwoAndThree() {
        let session = innerSession(.ethernet())
        let typeI = Encapsulation.carry(session) { outer.payload(protocol: 47, Encapsulation.erspanI(frame: $0)) }
        expectInnerSession(split(typeI).inner, kind: .erspan, id: nil)
        // ERSPAN II: 10-bit session id in the 8-byte header after a GRE header with S set.
        let typeII = Encapsulation.carry(session) { outer.payload(protocol: 47, Encapsulation.erspanII(session: 0x2AB, frame: $0)) }
        expectInnerSession(split(typeII).inner, kind: .erspan, id: 0x2AB)
        // ERSPAN III: 12-byte header, 8-byte platform subheader when O is set.
        let typeIII = Encapsulation.carry(session) {
            outer.payload(protocol: 47, Encapsulation.erspanIII(session: 17, subheader: true, frame: $0))
        }
        expectInnerSession(split(typeIII).inner, kind: .erspan, id: 17)
        let typeIIIPlain = Encapsulation.carry(session) { outer.payload(protocol: 47, Encapsulation.erspanIII(session: 18, frame: $0)) }
        expectInnerSession(split(typeIIIPlain).inner, kind: .erspan, id: 18)
    }

    // MARK: GTP-U, Teredo, IP in IP

    @Test func gtpUWithSequenceAndExtensionHeaders() {
        // 3GPP TS 29.281 5.1-5.2: version 1, PT 1, G-PDU (255), TEID; E and S set, then a PDU
        // session container (type 0x85) whose length counts 4-byte units.
        let frames = Encapsulation.carry(innerSession(.raw)) {
            outer.udp(sourcePort: 2152, destinationPort: 2152,
                      payload: Encapsulation.gtpU(teid: 0x0102_0304, sequence: 9,
                                                  extensions: [.init(type: 0x85, content: [0x10, 0x09]),
                                                               .init(type: 0x40, content: [1, 2, 3, 4, 5])], inner: $0))
        }
        expectInnerSession(split(frames).inner, kind: .gtpU, id: 0x0102_0304)
        let plain = Encapsulation.carry(innerSession(.raw)) {
            outer.udp(sourcePort: 2152, destinationPort: 2152, payload: Encapsulation.gtpU(teid: 1, inner: $0))
        }
        expectInnerSession(split(plain).inner, kind: .gtpU, id: 1)
    }

    @Test func gtpUSignallingIsNotAUserPacket() {
        // Message type 1 (echo request) is path management, not a G-PDU.
        let frames = Encapsulation.carry(innerSession(.raw)) { ip in
            var payload = Encapsulation.gtpU(teid: 1, inner: ip)
            payload[1] = 1
            return outer.udp(sourcePort: 2152, destinationPort: 2152, payload: payload)
        }
        #expect(split(frames).inner.isEmpty)
    }

    @Test func teredoCarriesIPv6AndIsValidated() {
        // RFC 4380 5.1.1: an origin indication, then IPv6 filling the UDP payload exactly.
        let session = Conversation(link: .raw).udpExchange(client: innerClient6, server: innerServer6, at: second,
                                                           request: [1, 2, 3], response: [4, 5, 6, 7])
        let frames = Encapsulation.carry(session) {
            outer.udp(sourcePort: 3544, destinationPort: 50000, payload: Encapsulation.teredo(origin: (3544, 0xC000_0201), inner: $0))
        }
        let (inner, _, _) = split(frames)
        #expect(inner.count == 1)
        #expect(inner.first?.tunnel?.kind == .teredo && inner.first?.tunnel?.id == nil)
        #expect(inner.first?.initiator == innerClient6.address && inner.first?.responderPort == 53 && inner.first?.state == .answered)
        // One byte after the IPv6 packet: its payload length no longer fills the UDP payload.
        let padded = Encapsulation.carry(session) {
            outer.udp(sourcePort: 3544, destinationPort: 50000, payload: Encapsulation.teredo(inner: $0) + [0])
        }
        #expect(split(padded).inner.isEmpty)
    }

    @Test func ipInIPAllFourCombinations() {
        // RFC 2003 (protocol 4) and RFC 4213 / RFC 2473 (protocol 41), each over IPv4 and IPv6.
        let outer6 = Frame.ethernet().ipv6(source: "2001:db8::a", destination: "2001:db8::b")
        let v4 = innerSession(.raw)
        let v6 = Conversation(link: .raw).tcpSession(client: innerClient6, server: Endpoint(innerServer6.address, 22), at: second,
                                                     clientData: [[1, 2, 3]], serverData: [[4, 5]])
        let cases: [([TimedFrame], IPLayer, UInt8, IPAddress)] = [
            (v4, outer, 4, innerClient.address), (v6, outer, 41, innerClient6.address),
            (v4, outer6, 4, innerClient.address), (v6, outer6, 41, innerClient6.address),
        ]
        for (session, layer, proto, client) in cases {
            let frames = Encapsulation.carry(session) { layer.payload(protocol: proto, $0) }
            let (inner, outerFlows, _) = split(frames)
            #expect(inner.count == 1 && outerFlows.count == 1, "protocol \(proto) over \(layer.source)")
            #expect(inner.first?.tunnel?.kind == .ipInIP && inner.first?.initiator == client && inner.first?.state == .closed)
            #expect(inner.first?.tunnel?.outerSource == layer.source)
        }
    }

    // MARK: Nesting, depth, identity

    @Test func nestedTunnelsRecordTheInnermost() {
        // VXLAN inside GRE: the inner flow's tunnel is the VXLAN one, at depth 2, with the
        // VXLAN packet's endpoints.
        let mid = Frame.raw.ipv4(source: "198.51.100.1", destination: "198.51.100.2")
        let frames = Encapsulation.carry(innerSession(.ethernet())) {
            outer.payload(protocol: 47, Encapsulation.gre(protocolType: 0x0800, key: 5,
                inner: mid.udp(sourcePort: 50000, destinationPort: 4789, payload: Encapsulation.vxlan(vni: 99, frame: $0))))
        }
        let (inner, outerFlows, statistics) = split(frames)
        // The middle UDP flow is itself an inner flow of the GRE tunnel.
        #expect(outerFlows.count == 1)
        let vxlanInner = inner.filter { $0.tunnel?.kind == .vxlan }
        expectInnerSession(vxlanInner, kind: .vxlan, id: 99, depth: 2,
                           outerSource: IPAddress("198.51.100.1")!, outerDestination: IPAddress("198.51.100.2")!)
        #expect(inner.filter { $0.tunnel?.kind == .gre }.first?.responderPort == 4789)
        #expect(statistics.tunnelledPackets[Int(TunnelKind.gre.rawValue)] == UInt64(frames.count))
    }

    @Test func depthLimitIsCountedWhenHit() {
        // Six IP-in-IP headers around the session: four levels are followed, the rest counted.
        let frames = Encapsulation.carry(innerSession(.raw)) { packet in
            var bytes = packet
            for _ in 0..<5 { bytes = Frame.raw.ipv4(source: "203.0.113.1", destination: "203.0.113.2").payload(protocol: 4, bytes) }
            return outer.payload(protocol: 4, bytes)
        }
        let (inner, _, statistics) = split(frames)
        #expect(statistics.tunnelTooDeep == UInt64(frames.count))
        #expect(inner.allSatisfy { ($0.tunnel?.depth ?? 0) <= UInt8(PacketDecoder.maximumTunnelDepth) })
        #expect(!inner.contains { $0.protocolNumber == 6 })
    }

    @Test func innerCommunityIDIsTheInnerTuples() {
        // Community ID v1 hashes the flow's own 5-tuple; a tunnelled flow has the ID it would
        // have natively (as Zeek and Suricata compute it on the inner packet).
        let native = meter(innerSession(.ethernet())).flows
        let frames = Encapsulation.carry(innerSession(.ethernet())) {
            outer.udp(sourcePort: 49152, destinationPort: 4789, payload: Encapsulation.vxlan(vni: 1, frame: $0))
        }
        let inner = split(frames).inner
        #expect(native.count == 1 && inner.count == 1)
        #expect(CommunityID.of(inner[0]) == CommunityID.of(native[0]))
        #expect(CommunityID.of(inner[0]) == CommunityID.of(source: innerClient.address, sourcePort: 40000,
                                                            destination: innerServer.address, destinationPort: 22, protocolNumber: 6))
    }

    // MARK: MPLS without a tunnel context

    @Test func mplsStacksAndPseudowireControlWord() {
        // RFC 3032: unicast (0x8847) and multicast (0x8848) stacks; RFC 4385/4448: control word
        // then an Ethernet pseudowire frame.
        let session = innerSession(.raw)
        let unicast = Encapsulation.carry(session) { Frame.ethernet().wrap(Encapsulation.mpls(labels: [16, 17, 18], inner: $0), etherType: 0x8847) }
        let multicast = Encapsulation.carry(session) { Frame.ethernet().wrap(Encapsulation.mpls(labels: [16], inner: $0), etherType: 0x8848) }
        let pseudowire = Encapsulation.carry(innerSession(.ethernet().vlan(7))) {
            Frame.ethernet().wrap(Encapsulation.mpls(labels: [16, 17], controlWord: true, inner: $0), etherType: 0x8847)
        }
        for frames in [unicast, multicast, pseudowire] {
            let (flows, statistics) = meter(frames)
            #expect(flows.count == 1 && flows.first?.responderPort == 22 && flows.first?.state == .closed)
            #expect(statistics.decoded == UInt64(frames.count))
        }
        #expect(meter(pseudowire).flows.first?.vlan == 7)
    }
}
