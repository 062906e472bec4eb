import Packets
import Testing
@testable import Flows

/// Known answers from the Community ID specification's reference implementation.
@Suite struct CommunityIDTests {
    @Test func specificationVectors() {
        #expect(CommunityID.of(source: IPAddress("128.232.110.120")!, sourcePort: 34855, destination: IPAddress("66.35.250.204")!,
                               destinationPort: 80, protocolNumber: 6) == "1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
        // Both directions give the same ID.
        #expect(CommunityID.of(source: IPAddress("66.35.250.204")!, sourcePort: 80, destination: IPAddress("128.232.110.120")!,
                               destinationPort: 34855, protocolNumber: 6) == "1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
        #expect(CommunityID.of(source: IPAddress("192.168.1.52")!, sourcePort: 54585, destination: IPAddress("8.8.8.8")!,
                               destinationPort: 53, protocolNumber: 17) == "1:d/FP5EW3wiY1vCndhwleRRKHowQ=")
        #expect(CommunityID.of(source: IPAddress("192.168.0.89")!, sourcePort: 8, destination: IPAddress("192.168.0.1")!,
                               destinationPort: 0, protocolNumber: 1) == "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=")
        #expect(CommunityID.of(source: IPAddress("fe80::200:86ff:fe05:80da")!, sourcePort: 135,
                               destination: IPAddress("fe80::260:97ff:fe07:69ea")!, destinationPort: 0,
                               protocolNumber: 58) == "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=")
    }

    @Test func sha1KnownAnswers() {
        #expect(Base64.encode(SHA1.hash(Array("abc".utf8))) == "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=")
        #expect(Base64.encode(SHA1.hash([])) == "2jmj7l5rSw0yVb/vlWAYkK/YBwk=")
        #expect(Base64.encode([1]) == "AQ==" && Base64.encode([1, 2]) == "AQI=")
    }
}
