import Testing
@testable import Policy

@Suite struct SuggestionTests {
    @Test func editDistanceCountsTranspositionsAsOne() {
        #expect(Suggestion.editDistance("servics", "services") == 1)
        #expect(Suggestion.editDistance("form", "from") == 1)
        #expect(Suggestion.editDistance("abc", "abc") == 0)
        #expect(Suggestion.editDistance("", "abc") == 3)
    }

    @Test func suggestsOnlyCloseWords() {
        #expect(Suggestion.closest(to: "servics", in: RuleFileParser.ruleKeys) == "services")
        #expect(Suggestion.closest(to: "form", in: RuleFileParser.ruleKeys) == "from")
        #expect(Suggestion.closest(to: "colour", in: RuleFileParser.ruleKeys) == nil)
    }
}
