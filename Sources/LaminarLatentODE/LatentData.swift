import Foundation
import LaminarData

/// Where a latent run's series come from, stored in its checkpoint so `evaluate` and `plot`
/// rebuild the same training and test series.
public struct LatentDataSpec: Codable, Sendable, Equatable {
    /// `spirals`, or the path of a CSV `series_id,time,feature_1,…`.
    public var source: String
    /// Spirals: the training set's settings (series, points per series, noise).
    public var spirals: SpiralDataset.Settings
    /// Spirals: number of test series (generated with a different seed).
    public var testSeries: Int
    /// CSV: fraction of each series' time span given to the encoder.
    public var observedFraction: Double
    /// Seed of the spirals' generation and of the train/test split.
    public var seed: UInt64

    /// Where the series come from: `spirals` (with `spirals` settings) or a CSV path.
    public init(
        source: String = "spirals", spirals: SpiralDataset.Settings = .init(), testSeries: Int = 100,
        observedFraction: Double = 0.5, seed: UInt64 = 0
    ) {
        (self.source, self.spirals, self.testSeries, self.observedFraction, self.seed) =
            (source, spirals, testSeries, observedFraction, seed)
    }

    /// Whether the series are the generated spirals (rather than a CSV file).
    public var isSpirals: Bool { source == "spirals" }

    /// The data: training and test examples, and for spirals the test set's generator (for
    /// the noise-free curves in plots).
    public func load() throws -> (train: [SeriesExample], test: [SeriesExample], testSpirals: SpiralDataset?, note: String?) {
        if isSpirals {
            guard testSeries >= 1 else { throw DataError.mismatch("spirals: --test-series must be ≥ 1, got \(testSeries)") }
            let train = try SpiralDataset(settings: spirals, seed: seed)
            var testSettings = spirals
            testSettings.series = testSeries
            let test = try SpiralDataset(settings: testSettings, seed: seed &+ 1_000_003)
            return (train.examples, test.examples, test, nil)
        }
        let series = try TimeSeriesCSV.load(path: source)
        let examples = try SeriesExample.split(series, observedFraction: observedFraction, path: source)
        if examples.count == 1 {
            return (examples, examples, nil, "\(source) holds one series: it is used for training and for the scores")
        }
        let testCount = max(1, examples.count / 10)
        return (Array(examples.dropLast(testCount)), Array(examples.suffix(testCount)), nil,
                "\(source): \(examples.count - testCount) series for training, the last \(testCount) for the scores")
    }
}
