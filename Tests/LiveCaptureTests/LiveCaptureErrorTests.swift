import CPcap
import LiveCapture
import Testing

@Suite struct LiveCaptureErrorTests {
    /// libpcap's PCAP_ERROR_PERM_DENIED says what is missing: root or the two capabilities.
    @Test func permissionDeniedNamesRootAndCapabilities() {
        let message = "You don't have permission to perform this capture on that device (socket: Operation not permitted)"
        let error = LiveCaptureSession.activationError(status: PCAP_ERROR_PERM_DENIED, interface: "eth0",
                                                       message: message, available: { [] })
        #expect(error == .permissionDenied(interface: "eth0", message: message))
        let text = error.description
        #expect(text.contains("'eth0'"))
        #expect(text.contains(message))
        #expect(text.contains("root"))
        #expect(text.contains("CAP_NET_RAW"))
        #expect(text.contains("CAP_NET_ADMIN"))
    }

    @Test func promiscuousPermissionDeniedSuggestsCapturingWithoutIt() {
        let error = LiveCaptureSession.activationError(status: PCAP_ERROR_PROMISC_PERM_DENIED, interface: "eth0",
                                                       message: "", available: { [] })
        #expect(error.description.contains("--promiscuous"))
        #expect(error.description.contains("CAP_NET_ADMIN"))
    }

    @Test func noSuchDeviceListsAvailableInterfaces() {
        let error = LiveCaptureSession.activationError(status: PCAP_ERROR_NO_SUCH_DEVICE, interface: "eht0",
                                                       message: "No such device exists", available: { ["lo", "eth0"] })
        #expect(error.description == "no such interface 'eht0' (No such device exists); available interfaces: lo, eth0")
    }

    /// The interface list is only gathered for an unknown interface.
    @Test func otherStatusesKeepLibpcapTextAndCode() {
        let error = LiveCaptureSession.activationError(status: PCAP_ERROR, interface: "eth0", message: "",
                                                       available: { Issue.record("listed interfaces"); return [] })
        #expect(error == .activationFailed(interface: "eth0", status: PCAP_ERROR, message: "Generic error"))
        #expect(error.description == "cannot capture on interface 'eth0': Generic error [libpcap status -1]")
    }

    @Test func optionValuesAreCheckedBeforeOpening() {
        #expect(throws: LiveCaptureError.badOption(name: "--snaplen", value: "0", reason: "must be between 1 and 262144")) {
            try LiveCaptureOptions(interface: "lo", snapshotLength: 0).validate()
        }
        #expect(throws: LiveCaptureError.self) {
            try LiveCaptureOptions(interface: "lo", bufferSize: -1).validate()
        }
        #expect(throws: LiveCaptureError.self) {
            try LiveCaptureOptions(interface: "lo", duration: .zero).validate()
        }
        #expect(throws: Never.self) {
            try LiveCaptureOptions(interface: "lo", snapshotLength: 65_535, bufferSize: 4 << 20, duration: .seconds(5)).validate()
        }
    }

    @Test func unknownUserIsAClearError() {
        #expect(throws: LiveCaptureError.userNotFound(user: "no-such-user-fa")) {
            try Privileges.drop(toUser: "no-such-user-fa")
        }
        #expect(LiveCaptureError.userNotFound(user: "x").description == "cannot drop privileges: no user named 'x'")
    }

    @Test func passwordLookupFindsRootAndNobody() throws {
        let root = try #require(try Privileges.lookUp(user: "root"))
        #expect(root.uid == 0 && root.gid == 0)
        let nobody = try #require(try Privileges.lookUp(user: "nobody"))
        #expect(nobody.uid != 0)
    }
}
