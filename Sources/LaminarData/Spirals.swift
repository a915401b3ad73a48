import Foundation

/// One series for a latent time-series model: what the encoder sees, and the targets it is
/// scored on inside the observed window (interpolation) and after it (extrapolation).
/// Times start at 0, the moment the latent trajectory starts.
public struct SeriesExample: Sendable, Equatable {
    /// Encoder input and reconstruction target.
    public var observed: IrregularSeries
    /// Targets inside `[0, windowEnd]`: the noise-free trajectory for synthetic data, the
    /// observations themselves otherwise.
    public var interpolation: IrregularSeries
    /// Targets after `windowEnd`.
    public var extrapolation: IrregularSeries
    /// End of the observed window (the upper limit of the Poisson-process integral).
    public var windowEnd: Double

    /// An example from its three series and the end of its observed window.
    public init(observed: IrregularSeries, interpolation: IrregularSeries, extrapolation: IrregularSeries, windowEnd: Double) {
        (self.observed, self.interpolation, self.extrapolation, self.windowEnd) = (observed, interpolation, extrapolation, windowEnd)
    }
}

/// The spiral data of the Neural ODE paper (Chen et al. 2018, §5.1): clockwise and
/// counter-clockwise 2-D spirals, each series a window of one spiral from a random start,
/// observed with Gaussian noise at irregular, per-series random times.
///
/// The curves are those of the paper's experiment: on `s ∈ [0, 6π]` the clockwise spiral is
/// `r = 15 / (6π + 1 − s)` at angle `6π + 1 − s`, centred at (−5, 0); the counter-clockwise one
/// `r = 0.3 s` at angle `s`, centred at (5, 0). A window spans 100 of the 500 grid steps
/// (`L = 100 · 6π / 499`) for observation and as much again for extrapolation. Observation
/// times are `points` distinct instants drawn at random from the window's 100-point grid
/// (all of them when `points = 100`), so each series has its own irregular times.
public struct SpiralDataset: Sendable {
    /// How many series, how densely and how noisily observed (`laminar latent --data spirals`).
    public struct Settings: Codable, Sendable, Equatable {
        /// Number of series.
        public var series: Int
        /// Observations per series, 1…100.
        public var points: Int
        /// Standard deviation of the observation noise.
        public var noise: Double
        /// Targets per series for the interpolation and extrapolation scores.
        public var targets: Int

        /// Settings; by default 1000 series of 30 observations with noise σ = 0.3, scored on 50
        /// targets per window.
        public init(series: Int = 1000, points: Int = 30, noise: Double = 0.3, targets: Int = 50) {
            (self.series, self.points, self.noise, self.targets) = (series, points, noise, targets)
        }

        /// Checks the ranges (`series ≥ 1`, `points` in 1…100, `noise ≥ 0` and finite, `targets ≥ 1`).
        ///
        /// - Throws: ``DataError/mismatch(_:)`` naming the flag that is out of range.
        public func validate() throws {
            guard series >= 1 else { throw DataError.mismatch("spirals: --series must be ≥ 1, got \(series)") }
            guard (1...SpiralDataset.gridPoints).contains(points) else {
                throw DataError.mismatch("spirals: --points must be in 1…\(SpiralDataset.gridPoints), got \(points)")
            }
            guard noise >= 0, noise.isFinite else { throw DataError.mismatch("spirals: --noise must be ≥ 0, got \(noise)") }
            guard targets >= 1 else { throw DataError.mismatch("spirals: targets must be ≥ 1, got \(targets)") }
        }
    }

    /// Grid points of an observation window.
    public static let gridPoints = 100
    /// Length of the curve parameter range.
    public static let curveLength = 6 * Double.pi
    /// Length of the observation window (and of the extrapolation window after it).
    public static let window = Double(gridPoints) * curveLength / 499

    /// The point of the clockwise (`true`) or counter-clockwise spiral at curve parameter `s`.
    public static func curve(clockwise: Bool, at s: Double) -> (Double, Double) {
        if clockwise {
            let z = curveLength + 1 - s
            let r = 0.3 * 50 / z
            return (r * Foundation.cos(z) - 5, r * Foundation.sin(z))
        }
        let r = 0.3 * s
        return (r * Foundation.cos(s) + 5, r * Foundation.sin(s))
    }

    /// The settings the data set was generated with.
    public let settings: Settings
    /// One example per series, in generation order.
    public let examples: [SeriesExample]
    /// Direction of each series (for plots).
    public let clockwise: [Bool]
    /// Curve parameter of each series' time 0.
    public let starts: [Double]

    /// Generates the data set; identical `settings` and `seed` give identical data on every machine.
    ///
    /// - Throws: ``DataError/mismatch(_:)`` when the settings are out of range.
    public init(settings: Settings, seed: UInt64) throws {
        try settings.validate()
        self.settings = settings
        var rng = RandomGenerator(seed: seed &+ 0x5B1A_0000)
        let L = Self.window
        let grid = (0..<Self.gridPoints).map { Double($0) * L / Double(Self.gridPoints - 1) }
        let targetTimes = (0..<settings.targets).map { Double($0) * L / Double(max(1, settings.targets - 1)) }
        let extrapolationTimes = (1...settings.targets).map { L + Double($0) * L / Double(settings.targets) }
        var examples: [SeriesExample] = []
        var directions: [Bool] = []
        var starts: [Double] = []
        for b in 0..<settings.series {
            let cw = rng.uniform() < 0.5
            let start = rng.uniform() * (Self.curveLength - 2 * L)
            var chosen = Array(0..<Self.gridPoints)
            chosen.shuffle(using: &rng)
            let times = chosen.prefix(settings.points).sorted().map { grid[$0] }
            func truth(_ t: Double) -> [Double] {
                let p = Self.curve(clockwise: cw, at: start + t)
                return [p.0, p.1]
            }
            let values = times.map { t in truth(t).map { $0 + settings.noise * rng.normal() } }
            let all = [[Bool]](repeating: [true, true], count: times.count)
            let observed = IrregularSeries(id: "spiral-\(b)", times: times, values: values, mask: all)
            let interpolation = IrregularSeries(
                id: observed.id, times: targetTimes, values: targetTimes.map(truth),
                mask: [[Bool]](repeating: [true, true], count: targetTimes.count))
            let extrapolation = IrregularSeries(
                id: observed.id, times: extrapolationTimes, values: extrapolationTimes.map(truth),
                mask: [[Bool]](repeating: [true, true], count: extrapolationTimes.count))
            examples.append(SeriesExample(observed: observed, interpolation: interpolation, extrapolation: extrapolation, windowEnd: L))
            directions.append(cw)
            starts.append(start)
        }
        self.examples = examples
        clockwise = directions
        self.starts = starts
    }

    /// The noise-free trajectory of series `index` at time `t`.
    public func truth(series index: Int, at t: Double) -> (Double, Double) {
        Self.curve(clockwise: clockwise[index], at: starts[index] + t)
    }
}

extension SeriesExample {
    /// Turns the user's series into examples: times shifted to start at 0; the observations in
    /// the first `observedFraction` of each series' time span are the encoder input and the
    /// interpolation targets, the rest the extrapolation targets. Series with fewer than two
    /// observations in the observed part are rejected with their id.
    public static func split(_ series: [IrregularSeries], observedFraction: Double = 0.5, path: String) throws -> [SeriesExample] {
        guard observedFraction > 0, observedFraction <= 1 else {
            throw DataError.mismatch("observed fraction must be in (0, 1], got \(observedFraction)")
        }
        return try series.map { s in
            guard let first = s.times.first, let last = s.times.last else {
                throw DataError.unreadable(path: path, reason: "series '\(s.id)' has no observations")
            }
            let cut = first + observedFraction * (last - first)
            let shifted = s.times.map { $0 - first }
            let k = s.times.firstIndex { $0 > cut } ?? s.times.count
            guard k >= 2 else {
                throw DataError.unreadable(
                    path: path, reason: "series '\(s.id)' has \(k) observation(s) in its observed part; at least 2 are needed")
            }
            func part(_ r: Range<Int>) -> IrregularSeries {
                IrregularSeries(id: s.id, times: Array(shifted[r]), values: Array(s.values[r]), mask: Array(s.mask[r]))
            }
            let observed = part(0..<k)
            return SeriesExample(
                observed: observed, interpolation: observed, extrapolation: part(k..<s.times.count),
                windowEnd: cut - first)
        }
    }
}
