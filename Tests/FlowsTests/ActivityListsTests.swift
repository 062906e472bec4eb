import Testing
@testable import Flows

@Suite struct ActivityListsTests {
    /// The indices on `list` from head to tail, by ending them one by one on a copy.
    func order(_ lists: ActivityLists, _ list: ActivityList) -> [Int] {
        var copy = lists
        var out: [Int] = []
        while let head = copy.head(list) {
            out.append(head)
            copy.unlink(head, from: list)
        }
        return out
    }

    @Test func listsKeepActivityOrderApart() {
        var lists = ActivityLists()
        lists.grow(toInclude: 5)
        lists.pushBack(0, on: .tcp)
        lists.pushBack(1, on: .other)
        lists.pushBack(2, on: .tcp)
        lists.pushBack(3, on: .tcp)
        #expect(order(lists, .tcp) == [0, 2, 3])
        #expect(order(lists, .other) == [1])
        #expect(lists.head(.closing) == nil)

        lists.moveToBack(0, from: .tcp, to: .tcp)
        #expect(order(lists, .tcp) == [2, 3, 0])
        #expect(lists.isTail(0) && !lists.isTail(2))

        lists.moveToBack(3, from: .tcp, to: .closing)
        #expect(order(lists, .tcp) == [2, 0])
        #expect(order(lists, .closing) == [3])

        lists.unlink(2, from: .tcp)
        lists.unlink(0, from: .tcp)
        #expect(lists.head(.tcp) == nil)
        // A freed index is reused on another list.
        lists.pushBack(0, on: .other)
        #expect(order(lists, .other) == [1, 0])
    }

    @Test func movingTheTailKeepsItsPlace() {
        var lists = ActivityLists()
        lists.grow(toInclude: 2)
        lists.pushBack(0, on: .other)
        lists.pushBack(1, on: .other)
        lists.pushBack(2, on: .other)
        lists.moveToBack(2, from: .other, to: .other)
        #expect(order(lists, .other) == [0, 1, 2])
        // The head moved to the back: the next becomes the head.
        lists.moveToBack(0, from: .other, to: .other)
        #expect(order(lists, .other) == [1, 2, 0])
    }
}
