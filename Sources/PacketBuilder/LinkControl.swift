// Link control traffic: what every host on a LAN sends besides its application flows. ARP
// (RFC 826), IPv6 neighbour and router discovery (RFC 4861), MLDv2 reports (RFC 3810), IGMPv3
// reports (RFC 3376), DHCP (RFC 2131) and DHCPv6 (RFC 8415), built as real stacks send them:
// hop limit 255 on ND, a Router Alert option on MLD and IGMP, the well-known multicast groups.

import Packets

/// Builders for link control frames. Each returns whole frames (link header included).
public enum LinkControl {
    /// The solicited-node multicast address of `address` (RFC 4291 2.7.1): ff02::1:ffXX:XXXX.
    public static func solicitedNode(_ address: IPAddress) -> IPAddress {
        IPAddress(high: 0xFF02_0000_0000_0000, low: 0x0000_0001_FF00_0000 | (address.low & 0x00FF_FFFF))
    }

    /// The Ethernet multicast MAC of an IPv6 multicast group (RFC 2464 7): 33:33 + the last 4 bytes.
    public static func multicastMAC(_ group: IPAddress) -> Frame.MACAddress {
        if group.isIPv4 {
            // RFC 1112 6.4: 01:00:5e + the low 23 bits.
            let b = group.bytes
            return Frame.MACAddress([0x01, 0x00, 0x5E, b[1] & 0x7F, b[2], b[3]])
        }
        return Frame.MACAddress([0x33, 0x33] + group.bytes.suffix(4))
    }

    // MARK: ARP

    /// An ARP request (broadcast) for `target` from `sender`.
    public static func arpRequest(sender: IPAddress, senderMAC: Frame.MACAddress, target: IPAddress, vlan: UInt16? = nil) -> [UInt8] {
        let frame = link(.ethernet(source: senderMAC, destination: .broadcast), vlan)
        return frame.wrap(arp(operation: 1, senderMAC: senderMAC, sender: sender, targetMAC: Frame.MACAddress([0, 0, 0, 0, 0, 0]), target: target),
                          etherType: 0x0806)
    }

    /// An ARP reply from `sender` to `target`.
    public static func arpReply(sender: IPAddress, senderMAC: Frame.MACAddress, target: IPAddress, targetMAC: Frame.MACAddress,
                                vlan: UInt16? = nil) -> [UInt8] {
        let frame = link(.ethernet(source: senderMAC, destination: targetMAC), vlan)
        return frame.wrap(arp(operation: 2, senderMAC: senderMAC, sender: sender, targetMAC: targetMAC, target: target), etherType: 0x0806)
    }

    static func arp(operation: UInt16, senderMAC: Frame.MACAddress, sender: IPAddress, targetMAC: Frame.MACAddress, target: IPAddress) -> [UInt8] {
        var out: [UInt8] = []
        out.appendBigEndian(UInt16(1))        // hardware type: Ethernet
        out.appendBigEndian(UInt16(0x0800))   // protocol type: IPv4
        out += [6, 4]
        out.appendBigEndian(operation)
        out += senderMAC.bytes + sender.bytes + targetMAC.bytes + target.bytes
        // Ethernet pads to the 60-byte minimum frame.
        out += Array(repeating: 0, count: 18)
        return out
    }

    // MARK: IPv6 neighbour and router discovery

    /// A Neighbor Solicitation (type 135) from `source` for `target`, to its solicited-node group.
    public static func neighbourSolicitation(source: IPAddress, sourceMAC: Frame.MACAddress, target: IPAddress, vlan: UInt16? = nil) -> [UInt8] {
        let group = solicitedNode(target)
        let frame = link(.ethernet(source: sourceMAC, destination: multicastMAC(group)), vlan)
        let body = target.bytes + [1, 1] + sourceMAC.bytes   // option 1: source link-layer address
        return frame.ipv6(source: source, destination: group, hopLimit: 255).packet(.icmp(.other(type: 135, code: 0, rest: 0, body: body)))
    }

    /// A solicited Neighbor Advertisement (type 136, S and O set) from `source` to `destination`.
    public static func neighbourAdvertisement(source: IPAddress, sourceMAC: Frame.MACAddress, destination: IPAddress,
                                              destinationMAC: Frame.MACAddress, router: Bool = false, vlan: UInt16? = nil) -> [UInt8] {
        let frame = link(.ethernet(source: sourceMAC, destination: destinationMAC), vlan)
        let flags: UInt32 = (router ? 0x8000_0000 : 0) | 0x4000_0000 | 0x2000_0000
        let body = source.bytes + [2, 1] + sourceMAC.bytes   // option 2: target link-layer address
        return frame.ipv6(source: source, destination: destination, hopLimit: 255)
            .packet(.icmp(.other(type: 136, code: 0, rest: flags, body: body)))
    }

    /// A Router Solicitation (type 133) to all-routers ff02::2.
    public static func routerSolicitation(source: IPAddress, sourceMAC: Frame.MACAddress, vlan: UInt16? = nil) -> [UInt8] {
        let group = IPAddress(parsing: "ff02::2")
        let frame = link(.ethernet(source: sourceMAC, destination: multicastMAC(group)), vlan)
        return frame.ipv6(source: source, destination: group, hopLimit: 255)
            .packet(.icmp(.other(type: 133, code: 0, rest: 0, body: [1, 1] + sourceMAC.bytes)))
    }

    /// A Router Advertisement (type 134) from a router's link-local address, advertising `prefix`/64
    /// (on-link, autonomous). `destination` is all-nodes ff02::1 unless given (a solicited RA may be unicast).
    public static func routerAdvertisement(source: IPAddress, sourceMAC: Frame.MACAddress, prefix: IPAddress, destination: IPAddress? = nil,
                                           destinationMAC: Frame.MACAddress? = nil, vlan: UInt16? = nil) -> [UInt8] {
        let to = destination ?? IPAddress(parsing: "ff02::1")
        let frame = link(.ethernet(source: sourceMAC, destination: destinationMAC ?? multicastMAC(to)), vlan)
        // Cur hop limit 64, no M/O flags, router lifetime 1800 s.
        let rest: UInt32 = 64 << 24 | 0 << 16 | 1800
        var body: [UInt8] = []
        body.appendBigEndian(UInt32(0))   // reachable time
        body.appendBigEndian(UInt32(0))   // retrans timer
        body += [1, 1] + sourceMAC.bytes
        // Prefix information (type 3, length 4): /64, L and A set, valid 2592000 s, preferred 604800 s.
        body += [3, 4, 64, 0xC0]
        body.appendBigEndian(UInt32(2_592_000))
        body.appendBigEndian(UInt32(604_800))
        body.appendBigEndian(UInt32(0))
        body += Array(prefix.bytes.prefix(8)) + Array(repeating: 0, count: 8)
        return frame.ipv6(source: source, destination: to, hopLimit: 255).packet(.icmp(.other(type: 134, code: 0, rest: rest, body: body)))
    }

    /// An MLDv2 report (type 143) to ff02::16, joining `groups` (CHANGE_TO_EXCLUDE, no sources).
    public static func mldReport(source: IPAddress, sourceMAC: Frame.MACAddress, groups: [IPAddress], vlan: UInt16? = nil) -> [UInt8] {
        let to = IPAddress(parsing: "ff02::16")
        let frame = link(.ethernet(source: sourceMAC, destination: multicastMAC(to)), vlan)
        var body: [UInt8] = []
        for group in groups { body += [4, 0, 0, 0] + group.bytes }
        // Router Alert (RFC 2711) in a hop-by-hop header, value 0 = MLD.
        let layer = frame.ipv6(source: source, destination: to, hopLimit: 1, extensions: [.hopByHop(options: [5, 2, 0, 0])])
        return layer.packet(.icmp(.other(type: 143, code: 0, rest: UInt32(groups.count), body: body)))
    }

    // MARK: IGMP

    /// An IGMPv3 membership report (type 0x22) to 224.0.0.22, joining `groups` (CHANGE_TO_EXCLUDE).
    public static func igmpReport(source: IPAddress, sourceMAC: Frame.MACAddress, groups: [IPAddress], vlan: UInt16? = nil) -> [UInt8] {
        let to = IPAddress(parsing: "224.0.0.22")
        let frame = link(.ethernet(source: sourceMAC, destination: multicastMAC(to)), vlan)
        var message: [UInt8] = [0x22, 0, 0, 0, 0, 0]
        message.appendBigEndian(UInt16(groups.count))
        for group in groups { message += [4, 0, 0, 0] + group.bytes }
        message.setBigEndian(InternetChecksum.compute(message), at: 2)
        let layer = frame.ipv4(source: source, destination: to, ttl: 1, options: [0x94, 0x04, 0x00, 0x00])
        return layer.payload(protocol: 2, message)
    }

    // MARK: DHCP

    /// DHCP message types (option 53).
    public enum DHCPMessage: UInt8 {
        case discover = 1, offer = 2, request = 3, ack = 5, release = 7
    }

    /// A BOOTP/DHCP message (RFC 2131 2): `op` 1 from the client, 2 from the server.
    public static func dhcpPayload(_ type: DHCPMessage, transaction: UInt32, clientMAC: Frame.MACAddress,
                                   clientAddress: IPAddress? = nil, yourAddress: IPAddress? = nil, server: IPAddress? = nil) -> [UInt8] {
        let zero = IPAddress(parsing: "0.0.0.0")
        let fromServer = type == .offer || type == .ack
        var out: [UInt8] = [fromServer ? 2 : 1, 1, 6, 0]
        out.appendBigEndian(transaction)
        out.appendBigEndian(UInt16(0))   // secs
        out.appendBigEndian(UInt16(0))   // flags
        out += (clientAddress ?? zero).bytes + (yourAddress ?? zero).bytes + (server ?? zero).bytes + zero.bytes
        out += clientMAC.bytes + Array(repeating: 0, count: 10)
        out += Array(repeating: 0, count: 64 + 128)   // sname, file
        out += [0x63, 0x82, 0x53, 0x63]                 // magic cookie
        out += [53, 1, type.rawValue]
        if let server { out += [54, 4] + server.bytes }
        if fromServer { out += [51, 4, 0, 0, 0x0E, 0x10] }   // lease 3600 s
        out.append(255)
        while out.count < 300 { out.append(0) }
        return out
    }

    /// A DHCP datagram between ports 68 and 67 (`fromClient` picks the direction).
    public static func dhcp(_ type: DHCPMessage, source: IPAddress, sourceMAC: Frame.MACAddress, destination: IPAddress,
                            destinationMAC: Frame.MACAddress, transaction: UInt32, clientMAC: Frame.MACAddress,
                            clientAddress: IPAddress? = nil, yourAddress: IPAddress? = nil, server: IPAddress? = nil,
                            vlan: UInt16? = nil) -> [UInt8] {
        let fromServer = type == .offer || type == .ack
        let frame = link(.ethernet(source: sourceMAC, destination: destinationMAC), vlan)
        let payload = dhcpPayload(type, transaction: transaction, clientMAC: clientMAC, clientAddress: clientAddress,
                                  yourAddress: yourAddress, server: server)
        return frame.ipv4(source: source, destination: destination, ttl: fromServer ? 64 : 128)
            .udp(sourcePort: fromServer ? 67 : 68, destinationPort: fromServer ? 68 : 67, payload: payload)
    }

    // MARK: DHCPv6

    /// DHCPv6 message types.
    public enum DHCPv6Message: UInt8 {
        case solicit = 1, advertise = 2, request = 3, renew = 5, reply = 7
    }

    /// A DHCPv6 message with a client identifier (DUID-LL of `clientMAC`) and an elapsed-time option.
    public static func dhcpv6Payload(_ type: DHCPv6Message, transaction: UInt32, clientMAC: Frame.MACAddress) -> [UInt8] {
        var out: [UInt8] = [type.rawValue, UInt8(transaction >> 16 & 0xFF), UInt8(transaction >> 8 & 0xFF), UInt8(transaction & 0xFF)]
        out += [0, 1, 0, 10, 0, 3, 0, 1] + clientMAC.bytes   // OPTION_CLIENTID, DUID-LL, Ethernet
        out += [0, 8, 0, 2, 0, 0]                            // OPTION_ELAPSED_TIME
        return out
    }

    /// A DHCPv6 datagram: a client message from port 546 to All_DHCP_Relay_Agents_and_Servers
    /// (ff02::1:2) port 547, or a server message from 547 to the client's link-local address on 546.
    public static func dhcpv6(_ type: DHCPv6Message, source: IPAddress, sourceMAC: Frame.MACAddress, destination: IPAddress? = nil,
                              destinationMAC: Frame.MACAddress? = nil, transaction: UInt32, clientMAC: Frame.MACAddress,
                              vlan: UInt16? = nil) -> [UInt8] {
        let fromServer = type == .advertise || type == .reply
        let to = destination ?? IPAddress(parsing: "ff02::1:2")
        let frame = link(.ethernet(source: sourceMAC, destination: destinationMAC ?? multicastMAC(to)), vlan)
        return frame.ipv6(source: source, destination: to, hopLimit: fromServer ? 64 : 1)
            .udp(sourcePort: fromServer ? 547 : 546, destinationPort: fromServer ? 546 : 547,
                 payload: dhcpv6Payload(type, transaction: transaction, clientMAC: clientMAC))
    }

    static func link(_ frame: Frame, _ vlan: UInt16?) -> Frame {
        vlan.map { frame.vlan($0) } ?? frame
    }
}
