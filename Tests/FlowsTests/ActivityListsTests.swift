import Testing
@testable import Flows

@Suite struct ActivityListsTests {
    /// The indices on `list` from head to tail, by ending them one by one on a copy.
    func order(_ lists: ActivityLists, _ list: ActivityList) -> [Int] {
        var copy = lists
        var out: [Int] = []
        while let head = copy.head(list) {
            out.append(head)
            copy.unlink(head)
        }
        return out
    }

    @Test func listsKeepActivityOrderApart() {
        var lists = ActivityLists()
        lists.grow(toInclude: 5)
        lists.pushBack(0, on: .tcp, at: 10)
        lists.pushBack(1, on: .other, at: 11)
        lists.pushBack(2, on: .tcp, at: 12)
        lists.pushBack(3, on: .tcp, at: 13)
        #expect(order(lists, .tcp) == [0, 2, 3])
        #expect(order(lists, .other) == [1])
        #expect(lists.head(.closing) == nil)

        lists.moveToBack(0, on: .tcp, at: 20)
        #expect(order(lists, .tcp) == [2, 3, 0])
        #expect(lists.queuedTime(of: 0) == 20)

        lists.moveToBack(3, on: .closing, at: 21)
        #expect(order(lists, .tcp) == [2, 0])
        #expect(order(lists, .closing) == [3])
        #expect(lists.list(of: 3) == .closing)

        lists.unlink(2)
        lists.unlink(0)
        #expect(lists.head(.tcp) == nil)
        // A freed index is reused on another list.
        lists.pushBack(0, on: .other, at: 30)
        #expect(order(lists, .other) == [1, 0])
    }

    @Test func movingTheTailKeepsItsPlaceAndUpdatesItsTime() {
        var lists = ActivityLists()
        lists.grow(toInclude: 1)
        lists.pushBack(0, on: .other, at: 1)
        lists.pushBack(1, on: .other, at: 2)
        lists.moveToBack(1, on: .other, at: 9)
        #expect(order(lists, .other) == [0, 1])
        #expect(lists.queuedTime(of: 1) == 9)
    }
}
