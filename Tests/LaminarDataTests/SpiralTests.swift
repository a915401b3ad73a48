import Foundation
import Testing
@testable import LaminarData

@Suite struct SpiralTests {
    @Test func seriesAreSeededIrregularAndOnTheCurves() throws {
        let settings = SpiralDataset.Settings(series: 20, points: 30, noise: 0, targets: 7)
        let a = try SpiralDataset(settings: settings, seed: 1)
        let b = try SpiralDataset(settings: settings, seed: 1)
        let c = try SpiralDataset(settings: settings, seed: 2)
        #expect(a.examples == b.examples && a.examples != c.examples)
        #expect(Set(a.clockwise).count == 2)
        let L = SpiralDataset.window
        for (i, e) in a.examples.enumerated() {
            #expect(e.observed.times.count == 30 && zip(e.observed.times, e.observed.times.dropFirst()).allSatisfy { $0 < $1 })
            #expect(e.observed.times.first! >= 0 && e.observed.times.last! <= L + 1e-12)
            #expect(e.interpolation.times.count == 7 && e.extrapolation.times.count == 7)
            #expect(e.extrapolation.times.allSatisfy { $0 > L && $0 <= 2 * L + 1e-12 })
            // Without noise the observations lie on the series' curve.
            for (t, v) in zip(e.observed.times, e.observed.values) {
                let p = a.truth(series: i, at: t)
                #expect(Swift.abs(p.0 - v[0]) < 1e-12 && Swift.abs(p.1 - v[1]) < 1e-12)
            }
        }
        // Different series see different times.
        #expect(Set(a.examples.map(\.observed.times)).count > 1)
    }

    @Test func curvesAreThePapersSpirals() {
        // Counter-clockwise: r = 0.3 s around (5, 0); clockwise: r = 15/(6π + 1 − s) around (−5, 0).
        let ccw = SpiralDataset.curve(clockwise: false, at: Double.pi / 2)
        #expect(Swift.abs(ccw.0 - 5) < 1e-12 && Swift.abs(ccw.1 - 0.3 * Double.pi / 2) < 1e-12)
        let cw = SpiralDataset.curve(clockwise: true, at: 6 * Double.pi)
        #expect(Swift.abs(cw.0 - (15 * Foundation.cos(1) - 5)) < 1e-12 && Swift.abs(cw.1 - 15 * Foundation.sin(1)) < 1e-12)
    }

    @Test func badSettingsAreRejected() {
        #expect(throws: DataError.self) { try SpiralDataset(settings: .init(points: 0), seed: 0) }
        #expect(throws: DataError.self) { try SpiralDataset(settings: .init(points: 101), seed: 0) }
        #expect(throws: DataError.self) { try SpiralDataset(settings: .init(series: 0), seed: 0) }
        #expect(throws: DataError.self) { try SpiralDataset(settings: .init(noise: -1), seed: 0) }
    }

    @Test func userSeriesSplitIntoObservedAndExtrapolatedParts() throws {
        let csv = "series_id,time,x\na,10,1\na,11,2\na,12,3\na,14,4\nb,0,5\nb,1,6\nb,4,\n"
        let examples = try SeriesExample.split(try TimeSeriesCSV.parse(csv, path: "s.csv"), observedFraction: 0.5, path: "s.csv")
        #expect(examples[0].observed.times == [0, 1, 2] && examples[0].extrapolation.times == [4])
        #expect(examples[0].windowEnd == 2)
        #expect(examples[1].observed.times == [0, 1] && examples[1].extrapolation.mask == [[false]])
        #expect(examples[0].interpolation == examples[0].observed)
    }

    @Test func seriesTooShortToEncodeAreNamed() throws {
        let csv = "series_id,time,x\nshort,0,1\nshort,10,2\nok,0,1\nok,1,2\n"
        do {
            _ = try SeriesExample.split(try TimeSeriesCSV.parse(csv, path: "s.csv"), observedFraction: 0.5, path: "s.csv")
            Issue.record("expected an error")
        } catch let error as DataError {
            #expect("\(error)".contains("'short'") && "\(error)".contains("s.csv"))
        }
    }
}
