import LaminarData
import LaminarNN
import LaminarODE

/// The baseline of the paper's spiral experiment: a GRU that reads observations in time order
/// with the gap since the previous one (`[x ⊙ m, m, Δt]`), and a head that predicts the value
/// a gap `Δ` after its last input from `[h, Δ]`. Trained to predict each observation from the
/// ones before it (Gaussian likelihood with the same σ as the latent ODE). Beyond the last
/// observation it extrapolates by feeding its own predictions back in.
public final class RNNBaseline<Scalar: TensorScalar>: SeriesModel {
    /// The model's settings (stored in checkpoints).
    public let configuration: LatentConfiguration
    let gru: GRUCell<Scalar>
    let head: SmallMLP<Scalar>

    /// Builds the GRU and its head with fresh weights from `rng`.
    public init(_ configuration: LatentConfiguration, using rng: inout RandomGenerator) {
        self.configuration = configuration
        let c = configuration
        gru = GRUCell(inputSize: 2 * c.features + 1, hiddenSize: c.rnnHidden, using: &rng)
        head = SmallMLP([c.rnnHidden + 1, c.hidden, c.features], activation: .relu, using: &rng)
    }

    /// GRU and head parameters with stable checkpoint names.
    public var namedParameters: [(String, Variable<Scalar>)] {
        prefixed("gru", gru.namedParameters) + prefixed("head", head.namedParameters)
    }

    func column(_ values: [Double]) -> Variable<Scalar> {
        Variable(Tensor(shape: [values.count, 1], scalars: values.map { Scalar($0) }))
    }

    func predictNext(_ h: Variable<Scalar>, gap: [Double]) -> Variable<Scalar> {
        head(Variable.concatenate([h, column(gap)], axis: 1))
    }

    /// Negative log-likelihood of every observation predicted from the ones before it (`rng` unused).
    public func loss(_ batch: SeriesBatch<Scalar>, using rng: inout RandomGenerator) throws -> SeriesLoss<Scalar> {
        let B = batch.count
        var h = Variable(Tensor<Scalar>(zeros: [B, configuration.rnnHidden]))
        var previous = [Double](repeating: 0, count: B)
        var logLikelihood: Variable<Scalar>? = nil
        for j in 0..<batch.steps {
            let gap = zip(batch.stepTimes[j], previous).map { $0 - $1 }
            let term = gaussianLogLikelihood(
                predictNext(h, gap: gap), targets: batch.stepValues[j], mask: batch.stepMask[j],
                std: configuration.observationStd)
            logLikelihood = logLikelihood.map { $0 + term } ?? term
            let input = Variable.concatenate(
                [Variable(batch.stepValues[j]), Variable(batch.stepMask[j]), column(gap)], axis: 1)
            h = h + (gru(input, h) - h) * batch.stepPresent[j]
            previous = batch.stepTimes[j]
        }
        let total = logLikelihood ?? Variable(Tensor(Scalar(0)))
        return SeriesLoss(
            loss: total * Scalar(-1 / Double(B)), logLikelihood: Double(total.value.scalar) / Double(B), kl: 0, poisson: 0,
            nfe: 0, backward: [])
    }

    /// Predictions `[series][query][feature]` at `queries`, extrapolating past the last observation on the model's own outputs.
    public func predict(_ examples: [SeriesExample], at queries: [[Double]]) throws -> [[[Double]]] {
        withoutGradient {
            zip(examples, queries).map { example, times in predict(example.observed, at: times) }
        }
    }

    /// One series: read the observations; a query inside them is predicted from the state after
    /// the last observation at or before it, a query after them by rolling the GRU forward on
    /// its own predictions.
    func predict(_ series: IrregularSeries, at queries: [Double]) -> [[Double]] {
        let D = configuration.features
        var states: [(time: Double, h: Variable<Scalar>)] = [(0, Variable(Tensor(zeros: [1, configuration.rnnHidden])))]
        for (j, t) in series.times.enumerated() {
            let values = (0..<D).map { series.mask[j][$0] ? Scalar(series.values[j][$0]) : 0 }
            let mask = (0..<D).map { series.mask[j][$0] ? Scalar(1) : 0 }
            let input = Variable(Tensor(shape: [1, 2 * D + 1], scalars: values + mask + [Scalar(t - states.last!.time)]))
            states.append((t, gru(input, states.last!.h)))
        }
        let last = series.times.last ?? 0
        var rolling = states.last!
        var out: [[Double]] = []
        for q in queries {
            if q <= last {
                let state = states.last { $0.time <= q } ?? states[0]
                out.append(predictNext(state.h, gap: [q - state.time]).value.scalars.map(Double.init))
            } else {
                let prediction = predictNext(rolling.h, gap: [q - rolling.time])
                let input = Variable.concatenate(
                    [prediction, Variable(Tensor(ones: [1, D])), column([q - rolling.time])], axis: 1)
                rolling = (q, gru(input, rolling.h))
                out.append(prediction.value.scalars.map(Double.init))
            }
        }
        return out
    }
}
