import LaminarAutodiff
import LaminarODE

/// FFJORD (Grathwohl, Chen, Bettencourt, Sutskever & Duvenaud 2019): a stack of CNF blocks
/// trained by maximum likelihood with an (optionally stochastic) trace estimator.
public final class FFJORD<Scalar: TensorScalar>: Flow {
    /// The model's settings (stored in checkpoints).
    public let configuration: FFJORDConfiguration
    /// The stacked CNF blocks, data side first.
    public let blocks: [CNFBlock<Scalar>]
    /// The configured estimator, used by ``trainingLoss(_:using:)`` and
    /// ``estimatedForward(_:using:)``; ``forward(_:)`` and ``inverse(_:)`` use the exact trace.
    public let trainingEstimator: TraceEstimator

    /// Builds the model with freshly initialised weights (PyTorch's default initialisation).
    public init(_ configuration: FFJORDConfiguration, using rng: inout RandomGenerator) throws {
        try configuration.validate()
        self.configuration = configuration
        guard let estimator = TraceEstimator(name: configuration.trace),
              let layerType = ODENetLayerType(rawValue: configuration.layerType) else {
            throw FlowError.invalidConfiguration("trace '\(configuration.trace)' or layer type '\(configuration.layerType)' unknown")
        }
        self.trainingEstimator = estimator
        let options = configuration.solve.odeOptions
        let gradient = configuration.solve.gradient
        var blocks: [CNFBlock<Scalar>] = []
        for _ in 0..<configuration.blocks {
            let net: any CNFVectorField<Scalar>
            if configuration.field == "hollow" {
                net = try HollowVectorField<Scalar>(
                    dimension: configuration.dimension, hidden: configuration.hidden, layerType: layerType,
                    activation: configuration.activation, using: &rng)
            } else {
                net = try MLPVectorField<Scalar>(
                    dimension: configuration.dimension, hidden: configuration.hidden, layerType: layerType,
                    activation: configuration.activation, residual: configuration.residual, using: &rng)
            }
            blocks.append(CNFBlock(
                field: net, timeLength: configuration.timeLength,
                trainTime: configuration.trainTime, options: options, gradient: gradient))
        }
        self.blocks = blocks
    }

    /// The dimension d of the data.
    public var dimension: Int { configuration.dimension }

    /// The first block's integration length T.
    public var endTime: Double? { blocks.first?.endTime }

    /// Parameters as `chain.<block>.odefunc.<layer>…` (the reference FFJORD's names).
    public var namedParameters: [(String, Variable<Scalar>)] {
        blocks.enumerated().flatMap { i, b in b.namedParameters.map { ("chain.\(i).\($0.0)", $0.1) } }
    }

    /// Data → base with the exact trace.
    public func forward(_ x: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try transport(x, reverse: false, traces: nil)
    }

    /// Base → data with the exact trace.
    public func inverse(_ z: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try transport(z, reverse: true, traces: nil)
    }

    /// The exact trace costs one vector-Jacobian product per dimension and evaluation: fine for
    /// toy and tabular data, not for flattened images.
    /// The hollow field's costs one extra pass in any dimension.
    public var exactLogDeterminantIsAffordable: Bool { configuration.field == "hollow" || dimension <= 100 }

    /// Data → base with the configured estimator (``trainingEstimator``; noise drawn from `rng`
    /// once per block's solve) — the exact trace when that is what the model is configured with.
    public func estimatedForward(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> FlowOutput<Scalar> {
        try transport(x, reverse: false, traces: drawTraces(rows: x.shape[0], using: &rng))
    }

    /// The configured estimator for each block's solve, in block order.
    private func drawTraces(rows: Int, using rng: inout RandomGenerator) -> [DrawnTraceEstimator<Scalar>] {
        blocks.map { _ in trainingEstimator.draw(rows: rows, dimension: dimension, using: &rng) }
    }

    /// Base → data without tracking the log-determinant (cheaper sampling).
    public func sampleTransport(_ z: Tensor<Scalar>) throws -> (Tensor<Scalar>, nfe: Int) {
        var h = z
        var nfe = 0
        for block in blocks.reversed() {
            let r = try block.sampleSolve(h)
            h = r.final[0].value
            nfe += r.stats.nfe
        }
        return (h, nfe)
    }

    /// The state of the flow at intermediate times from base (t = T) to data (t = 0), for
    /// trajectory pictures: `frames` snapshots per block, base first.
    public func trajectory(_ z: Tensor<Scalar>, frames: Int) throws -> [Tensor<Scalar>] {
        var out: [Tensor<Scalar>] = [z]
        var h = z
        for block in blocks.reversed() {
            let T = block.endTime
            let times = (0...frames).map { T * (1 - Double($0) / Double(frames)) }
            let r = try block.sampleSolve(h, times: times)
            out += r.states.dropFirst().map { $0[0].value }
            h = r.final[0].value
        }
        return out
    }

    /// Through every block (data → base, or base → data when `reverse`) with `traces[i]` for
    /// block `i` (nil: the exact trace throughout).
    private func transport(
        _ x: Variable<Scalar>, reverse: Bool, traces: [DrawnTraceEstimator<Scalar>]?
    ) throws -> FlowOutput<Scalar> {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw FlowError.shapeMismatch(expected: [-1, dimension], found: x.shape, what: "FFJORD input")
        }
        var h = x
        var logDet: Variable<Scalar>? = nil
        var nfe = 0
        let order = reverse ? Array(blocks.indices.reversed()) : Array(blocks.indices)
        for i in order {
            let out = try blocks[i].run(h, reverse: reverse, trace: traces?[i] ?? .exact)
            h = out.z
            let ld = -out.deltaLogP.reshaped([-1])
            logDet = logDet.map { $0 + ld } ?? ld
            nfe += out.stats.nfe
        }
        return FlowOutput(value: h, logDeterminant: logDet!, nfe: nfe)
    }

    /// Negative log-likelihood with the training estimator (noise drawn once per solve from
    /// `rng`) plus the kinetic and Jacobian regularizers when their weights are positive.
    public func trainingLoss(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> TrainingLoss<Scalar> {
        let traces = drawTraces(rows: x.shape[0], using: &rng)
        let useK = configuration.kineticWeight > 0
        let useJ = configuration.jacobianWeight > 0
        var h = x
        var logDet: Variable<Scalar>? = nil
        var nfe = 0
        var kineticTotal: Variable<Scalar>? = nil
        var jacobianTotal: Variable<Scalar>? = nil
        var backward: [BackwardCounter] = []
        for (i, block) in blocks.enumerated() {
            let out = try block.run(h, reverse: false, trace: traces[i], kinetic: useK, jacobian: useJ)
            h = out.z
            let ld = -out.deltaLogP.reshaped([-1])
            logDet = logDet.map { $0 + ld } ?? ld
            nfe += out.stats.nfe
            backward.append(out.backward)
            if let k = out.kinetic { kineticTotal = kineticTotal.map { $0 + k.mean() } ?? k.mean() }
            if let j = out.jacobian { jacobianTotal = jacobianTotal.map { $0 + j.mean() } ?? j.mean() }
        }
        return TrainingLoss(
            nll: -(standardNormalLogDensity(h) + logDet!).mean(), nfeForward: nfe, backward: backward,
            kinetic: kineticTotal.map { ($0, configuration.kineticWeight) },
            jacobian: jacobianTotal.map { ($0, configuration.jacobianWeight) })
    }
}

extension BackwardStats: BackwardCounter {}
