import Testing
import LaminarData

/// The irregular time-series CSV loader and its errors.
@Suite struct TimeSeriesCSVTests {
    @Test func seriesWithTheirOwnTimesAndMissingValues() throws {
        let text = "series_id,time,x,y\ns1,0.0,1,2\ns2,0.5,3,\ns1,0.25,,4\ns2,0.75,5,6\n"
        let series = try TimeSeriesCSV.parse(text, path: "obs.csv")
        #expect(series.map(\.id) == ["s1", "s2"])
        #expect(series[0].times == [0, 0.25] && series[1].times == [0.5, 0.75])
        #expect(series[0].values == [[1, 2], [0, 4]] && series[0].mask == [[true, true], [false, true]])
        #expect(series[1].mask == [[true, false], [true, true]])
    }

    @Test(arguments: [
        ("series_id,time,x\ns,0.5,1\ns,0.25,2\n", "does not increase"),
        ("series_id,time,x\ns,nan,1\n", "NaN"),
        ("series_id,time,x\ns,0.5,1,7\n", "expected 3"),
        ("series_id,time,x\ns,0.5,abc\n", "'abc'"),
        ("id,t,x\ns,0.5,1\n", "header"),
        ("series_id,time,x\n", "no data rows"),
    ])
    func errorsNameTheLineAndTheProblem(_ text: String, _ word: String) {
        do {
            _ = try TimeSeriesCSV.parse(text, path: "obs.csv")
            Issue.record("accepted: \(text)")
        } catch {
            #expect("\(error)".contains("obs.csv") && "\(error)".contains(word), "\(error)")
        }
    }
}
