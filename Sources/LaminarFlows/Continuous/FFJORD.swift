import LaminarAutodiff
import LaminarODE

/// FFJORD (Grathwohl, Chen, Bettencourt, Sutskever & Duvenaud 2019): a stack of CNF blocks
/// trained by maximum likelihood with an (optionally stochastic) trace estimator.
public final class FFJORD<Scalar: TensorScalar>: Flow {
    public let configuration: FFJORDConfiguration
    public let blocks: [CNFBlock<Scalar>]
    /// Estimator used by `trainingLoss`; `forward`/`inverse` (evaluation) always use the exact trace.
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
                net: net, estimator: .exact, timeLength: configuration.timeLength,
                trainTime: configuration.trainTime, options: options, gradient: gradient))
        }
        self.blocks = blocks
    }

    public var dimension: Int { configuration.dimension }

    public var endTime: Double? { blocks.first?.endTime }

    public var namedParameters: [(String, Variable<Scalar>)] {
        blocks.enumerated().flatMap { i, b in b.namedParameters.map { ("chain.\(i).\($0.0)", $0.1) } }
    }

    /// Data → base with the exact trace.
    public func forward(_ x: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try transport(x, reverse: false, estimator: .exact)
    }

    /// Base → data with the exact trace.
    public func inverse(_ z: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try transport(z, reverse: true, estimator: .exact)
    }

    /// The exact trace costs one vector-Jacobian product per dimension and evaluation: fine for
    /// toy and tabular data, not for flattened images.
    /// The hollow field's costs one extra pass in any dimension.
    public var exactLogDeterminantIsAffordable: Bool { configuration.field == "hollow" || dimension <= 100 }

    /// Data → base with Hutchinson's estimator (Rademacher noise drawn once per solve).
    public func estimatedForward(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> FlowOutput<Scalar> {
        let noise: [Tensor<Scalar>?] = blocks.map { _ in HutchinsonNoise.rademacher.draw([x.shape[0], dimension], using: &rng) }
        return try transport(x, reverse: false, estimator: .hutchinson(.rademacher), noise: noise)
    }

    /// Base → data without tracking the log-determinant (cheaper sampling).
    public func sampleTransport(_ z: Tensor<Scalar>) throws -> (Tensor<Scalar>, nfe: Int) {
        var h = z
        var nfe = 0
        for block in blocks.reversed() {
            let (next, stats) = try withoutGradient { () throws -> (Tensor<Scalar>, ODEStats) in
                let f = ClosureDynamics<Scalar>(parameters: []) { t, y in [block.dynamics.net(t, y[0])] }
                let r = try odeint(f, [Variable(h)], times: [block.endTime, 0], options: block.options)
                return (r.final[0].value, r.stats)
            }
            h = next
            nfe += stats.nfe
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
            let f = ClosureDynamics<Scalar>(parameters: []) { t, y in [block.dynamics.net(t, y[0])] }
            let r = try withoutGradient { try odeint(f, [Variable(h)], times: times, options: block.options) }
            out += r.states.dropFirst().map { $0[0].value }
            h = r.final[0].value
        }
        return out
    }

    private func transport(
        _ x: Variable<Scalar>, reverse: Bool, estimator: TraceEstimator,
        noise: [Tensor<Scalar>?]? = nil, kinetic: Bool = false, jacobian: Bool = false
    ) throws -> FlowOutput<Scalar> {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw FlowError.shapeMismatch(expected: [-1, dimension], found: x.shape, what: "FFJORD input")
        }
        var h = x
        var logDet: Variable<Scalar>? = nil
        var nfe = 0
        let order = reverse ? Array(blocks.indices.reversed()) : Array(blocks.indices)
        for i in order {
            let block = blocks[i]
            block.dynamics.estimator = estimator
            let out = try block.run(h, reverse: reverse, noise: noise?[i] ?? nil, kinetic: kinetic, jacobian: jacobian)
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
        let n = x.shape[0]
        var noise: [Tensor<Scalar>?] = []
        for _ in blocks {
            if case .hutchinson(let kind) = trainingEstimator {
                noise.append(kind.draw([n, dimension], using: &rng))
            } else {
                noise.append(nil)
            }
        }
        let useK = configuration.kineticWeight > 0
        let useJ = configuration.jacobianWeight > 0
        var h = x
        var logDet: Variable<Scalar>? = nil
        var nfe = 0
        var kineticTotal: Variable<Scalar>? = nil
        var jacobianTotal: Variable<Scalar>? = nil
        var backward: [BackwardCounter] = []
        for (i, block) in blocks.enumerated() {
            block.dynamics.estimator = trainingEstimator
            let out = try block.run(h, reverse: false, noise: noise[i], kinetic: useK, jacobian: useJ)
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
