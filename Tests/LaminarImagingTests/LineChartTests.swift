import Testing
@testable import LaminarImaging

/// Tick labels carry the decimals their step needs, so that ticks at 2.5 and 7.5 do not read 2 and 8.
@Suite struct ChartTickTests {
    @Test func tickLabelsShowTheDecimalsOfTheirStep() {
        #expect(LineChart.tickLabel(7.5, step: 2.5) == "7.5")
        #expect(LineChart.tickLabel(10, step: 2.5) == "10.0")
        #expect(LineChart.tickLabel(0.25, step: 0.25) == "0.25")
        #expect(LineChart.tickLabel(40, step: 20) == "40")
        #expect(LineChart.tickLabel(0.3, step: 0.1) == "0.3")
    }
}
