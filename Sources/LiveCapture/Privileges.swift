import Glibc

extension LiveCaptureSession {
    /// Gives up root for `user` once the capture handle is open, as tcpdump's `-Z` does: the
    /// user's supplementary groups (initgroups), then its group (setgid), then its user id
    /// (setuid), and checks that root cannot be regained. The open handle keeps capturing.
    /// Does nothing when the process already runs as that user.
    /// - Throws: ``LiveCaptureError/userNotFound(user:)`` when the password database has no such
    ///   user; ``LiveCaptureError/dropPrivilegesFailed(user:step:errno:message:)`` naming the
    ///   failed step (for example `initgroups` when not running as root).
    public func dropPrivileges(toUser user: String) throws(LiveCaptureError) {
        try Privileges.drop(toUser: user)
    }
}

/// Process credentials.
package enum Privileges {
    /// The user and group ids of `user` in the password database, or nil when there is no such user.
    package static func lookUp(user: String) throws(LiveCaptureError) -> (uid: uid_t, gid: gid_t)? {
        var entry = unsafe passwd()
        var result: UnsafeMutablePointer<passwd>? = nil
        var buffer = [CChar](repeating: 0, count: 16_384)
        // SAFETY: every pointer argument refers to a local that outlives the call; only the
        // integer fields of `entry` are read afterwards (its strings point into `buffer`).
        let status = unsafe getpwnam_r(user, &entry, &buffer, buffer.count, &result)
        guard status == 0 else {
            throw .dropPrivilegesFailed(user: user, step: "getpwnam_r", errno: status, message: errorText(status))
        }
        guard unsafe result != nil else { return nil }
        return unsafe (entry.pw_uid, entry.pw_gid)
    }

    /// Switches the whole process to `user` (glibc applies setuid/setgid to every thread).
    package static func drop(toUser user: String) throws(LiveCaptureError) {
        guard let (uid, gid) = try lookUp(user: user) else { throw .userNotFound(user: user) }
        if getuid() == uid, geteuid() == uid, getgid() == gid, getegid() == gid { return }
        func fail(_ step: String) -> LiveCaptureError {
            let code = errno
            return .dropPrivilegesFailed(user: user, step: step, errno: code, message: errorText(code))
        }
        // SAFETY: the user name is a temporary C string for the call.
        guard unsafe initgroups(user, gid) == 0 else { throw fail("initgroups") }
        guard setgid(gid) == 0 else { throw fail("setgid") }
        guard setuid(uid) == 0 else { throw fail("setuid") }
        guard getuid() == uid, geteuid() == uid, getgid() == gid, getegid() == gid else {
            throw .dropPrivilegesFailed(user: user, step: "verify", errno: 0,
                                        message: "the process still has other user or group ids")
        }
        if uid != 0, setuid(0) == 0 {
            throw .dropPrivilegesFailed(user: user, step: "verify", errno: 0,
                                        message: "root could be regained after setuid")
        }
    }

    /// strerror's text for an errno value.
    static func errorText(_ code: Int32) -> String {
        // SAFETY: strerror returns a NUL-terminated string, copied at once.
        unsafe PcapText.string(strerror(code)) ?? "errno \(code)"
    }
}
