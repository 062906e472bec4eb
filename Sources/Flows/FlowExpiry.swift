/// When flows go idle: the flow table's expiry structure, driven by packet time.
///
/// Flows wait on the ``ActivityLists`` in order of last activity, one list per ``ActivityList``
/// with its own timeout, so the flow idle longest on a list is at its head and ending idle flows
/// looks only at heads. `nextDeadline` is a lower bound of the earliest time any flow can be due:
/// a packet whose time has not reached it costs one compare, and a list head is looked at only
/// when it has.
///
/// A busy flow moves to the back of its list at most once per `requeueInterval`, so its packets do
/// not each relink three records; lists are then ordered by activity to within that interval,
/// and an idle flow ends at most that late (a packet of a flow idle past its timeout ends it
/// at once, see ``isIdle(lastActive:list:at:)``).
struct FlowExpiry {
    var lists = ActivityLists()
    /// No flow is due before this capture time (recomputed by each expiry pass).
    private(set) var nextDeadline: Int64 = Int64.min
    /// Timeouts by ``ActivityList`` raw value.
    private var timeouts: InlineArray<3, Int64>
    /// The smallest of the three timeouts: a gap not above it is idle on no list.
    private var shortestTimeout: Int64
    private(set) var requeueInterval: Int64

    init(_ configuration: FlowMeterConfiguration) {
        timeouts = InlineArray(repeating: 0)
        shortestTimeout = 0
        requeueInterval = 0
        configure(configuration)
    }

    /// Takes the timeouts of `configuration` (a meter's configuration may change between packets).
    mutating func configure(_ configuration: FlowMeterConfiguration) {
        timeouts[Int(ActivityList.tcp.rawValue)] = configuration.tcpIdleTimeout
        timeouts[Int(ActivityList.other.rawValue)] = configuration.otherIdleTimeout
        timeouts[Int(ActivityList.closing.rawValue)] = configuration.closeLinger
        shortestTimeout = min(configuration.tcpIdleTimeout, configuration.otherIdleTimeout, configuration.closeLinger)
        requeueInterval = configuration.requeueInterval
    }

    /// The idle timeout of `list`.
    @inline(__always)
    func timeout(of list: ActivityList) -> Int64 { timeouts[Int(list.rawValue)] }

    /// True when a packet at `time` may find flows due: an expiry pass is worth running.
    @inline(__always)
    func isDue(at time: Int64) -> Bool { time >= nextDeadline }

    /// The list a flow belongs on: closing once finished, else by protocol.
    @inline(__always)
    static func list(finished: Bool, tcp: Bool) -> ActivityList {
        finished ? .closing : (tcp ? .tcp : .other)
    }

    /// True when a flow last active at `lastActive`, belonging on `list`, is idle past its
    /// timeout at `time`.
    @inline(__always)
    func isIdle(lastActive: Int64, list: ActivityList, at time: Int64) -> Bool {
        guard time > lastActive else { return false }
        let gap = time &- lastActive
        // The common case, a packet shortly after the last, decides without the list.
        if gap <= shortestTimeout { return false }
        return gap > timeout(of: list)
    }

    /// True when a flow last queued at `queuedAt` on `current`, now belonging on `list`, moves to
    /// the back of `list` at `time`: it changes list, or its place is older than the requeue
    /// interval.
    @inline(__always)
    func needsRequeue(from current: ActivityList, to list: ActivityList, queuedAt: Int64, at time: Int64) -> Bool {
        current != list || time &- queuedAt > requeueInterval
    }

    /// Lowers the next deadline to that of a flow last active at `time` on `list`.
    @inline(__always)
    mutating func noteActivity(at time: Int64, on list: ActivityList) {
        let (deadline, overflow) = time.addingReportingOverflow(timeout(of: list))
        if !overflow && deadline < nextDeadline { nextDeadline = deadline }
    }

    /// The head of `list` when it is due at `now` (last active at `lastActive(head)` more than the
    /// list's timeout ago); otherwise nil, and the head's deadline lowers `earliest`.
    @inline(__always)
    func dueHead(_ list: ActivityList, at now: Int64, earliest: inout Int64, lastActive: (Int) -> Int64) -> Int? {
        guard let head = lists.head(list) else { return nil }
        let last = lastActive(head)
        let timeout = timeout(of: list)
        guard last <= now &- timeout else {
            let (deadline, overflow) = last.addingReportingOverflow(timeout)
            earliest = min(earliest, overflow ? Int64.max : deadline)
            return nil
        }
        return head
    }

    /// Sets the next deadline after an expiry pass (the earliest a remaining head is due).
    mutating func passEnded(nextDeadline earliest: Int64) { nextDeadline = earliest }
}
