import Foundation
import LaminarAutodiff
import LaminarNN
import LaminarODE

/// Settings of ``MultiscaleCNF`` (stored in checkpoints).
public struct MultiscaleCNFConfiguration: Codable, Sendable, Equatable {
    public var channels: Int
    public var height: Int
    public var width: Int
    /// Number of scales; every scale but the last ends with a squeeze and factors out half of
    /// the channels.
    public var scales: Int
    /// CNF blocks before and after each squeeze.
    public var blocksPerScale: Int
    /// Hidden channels of each block's `ConcatConv2d` stack.
    public var hidden: [Int]
    public var activation: Activation
    public var trace: String
    public var timeLength: Double
    public var trainTime: Bool
    public var method: String
    public var rtol: Double
    public var atol: Double
    public var gradient: String

    public init(
        channels: Int = 1, height: Int = 28, width: Int = 28, scales: Int = 2, blocksPerScale: Int = 1,
        hidden: [Int] = [32, 32], activation: Activation = .softplus, trace: String = "hutchinson-rademacher",
        timeLength: Double = 1, trainTime: Bool = true, method: String = "dopri5", rtol: Double = 1e-5,
        atol: Double = 1e-5, gradient: String = "adjoint"
    ) {
        self.channels = channels
        self.height = height
        self.width = width
        self.scales = scales
        self.blocksPerScale = blocksPerScale
        self.hidden = hidden
        self.activation = activation
        self.trace = trace
        self.timeLength = timeLength
        self.trainTime = trainTime
        self.method = method
        self.rtol = rtol
        self.atol = atol
        self.gradient = gradient
    }

    public var dimension: Int { channels * height * width }

    public func validate() throws {
        guard channels > 0, height > 0, width > 0 else { throw FlowError.invalidConfiguration("image shape must be positive") }
        guard scales >= 1, blocksPerScale >= 1 else { throw FlowError.invalidConfiguration("scales and blocks must be ≥ 1") }
        guard !hidden.isEmpty, hidden.allSatisfy({ $0 > 0 }) else {
            throw FlowError.invalidConfiguration("hidden channels must be positive")
        }
        var (h, w) = (height, width)
        for s in 0..<(scales - 1) {
            guard h % 2 == 0, w % 2 == 0 else {
                throw FlowError.invalidConfiguration("scale \(s + 1): \(h)×\(w) cannot be squeezed (odd side); use fewer scales")
            }
            (h, w) = (h / 2, w / 2)
        }
        guard TraceEstimator(name: trace) != nil else { throw FlowError.invalidConfiguration("unknown trace estimator \(trace)") }
        guard Tableau.named(method) != nil else { throw FlowError.invalidConfiguration("unknown solver \(method)") }
        guard GradientMethod(name: gradient) != nil else { throw FlowError.invalidConfiguration("unknown gradient \(gradient)") }
        guard timeLength > 0, rtol > 0, atol > 0 else { throw FlowError.invalidConfiguration("T and tolerances must be positive") }
    }
}

/// Multiscale FFJORD for images (Grathwohl et al. 2019, after Real NVP's multiscale
/// architecture): at each scale CNF blocks with convolutional dynamics, a squeeze (2×2 blocks
/// to channels), more CNF blocks, then half of the channels are factored out to the base
/// distribution; the last scale has CNF blocks only. Rows are flattened images `[n, C·H·W]`;
/// the base vector is the factored parts in order followed by the last scale's output.
public final class MultiscaleCNF<Scalar: TensorScalar>: Flow {
    public let configuration: MultiscaleCNFConfiguration
    /// `stages[s]`: the blocks before the squeeze and, for all but the last scale, after it.
    let stages: [(before: [CNFBlock<Scalar>], after: [CNFBlock<Scalar>])]
    public let trainingEstimator: TraceEstimator

    public init(_ configuration: MultiscaleCNFConfiguration, using rng: inout RandomGenerator) throws {
        try configuration.validate()
        self.configuration = configuration
        trainingEstimator = TraceEstimator(name: configuration.trace)!
        let options = ODEOptions(method: Tableau.named(configuration.method)!, rtol: configuration.rtol, atol: configuration.atol)
        let gradient = GradientMethod(name: configuration.gradient)!
        func blocks(_ c: Int, _ h: Int, _ w: Int) -> [CNFBlock<Scalar>] {
            (0..<configuration.blocksPerScale).map { _ in
                CNFBlock(
                    net: ConvVectorField<Scalar>(channels: c, height: h, width: w, hidden: configuration.hidden,
                                                 activation: configuration.activation, using: &rng),
                    estimator: .exact, timeLength: configuration.timeLength, trainTime: configuration.trainTime,
                    options: options, gradient: gradient)
            }
        }
        var (c, h, w) = (configuration.channels, configuration.height, configuration.width)
        var stages: [(before: [CNFBlock<Scalar>], after: [CNFBlock<Scalar>])] = []
        for s in 0..<configuration.scales {
            let before = blocks(c, h, w)
            guard s < configuration.scales - 1 else {
                stages.append((before, []))
                break
            }
            (c, h, w) = (4 * c, h / 2, w / 2)
            stages.append((before, blocks(c, h, w)))
            c -= c / 2
        }
        self.stages = stages
    }

    public var dimension: Int { configuration.dimension }
    public var endTime: Double? { stages.first?.before.first?.endTime }

    var allBlocks: [CNFBlock<Scalar>] { stages.flatMap { $0.before + $0.after } }

    public var namedParameters: [(String, Variable<Scalar>)] {
        allBlocks.enumerated().flatMap { i, b in b.namedParameters.map { ("transforms.\(i).\($0.0)", $0.1) } }
    }

    /// Shapes `(C, H, W)` entering each scale.
    var scaleShapes: [(Int, Int, Int)] {
        var (c, h, w) = (configuration.channels, configuration.height, configuration.width)
        var out: [(Int, Int, Int)] = []
        for _ in 0..<configuration.scales {
            out.append((c, h, w))
            (c, h, w) = (4 * c - (4 * c) / 2, h / 2, w / 2)
        }
        return out
    }

    public func forward(_ x: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try transport(x, estimator: .exact, noise: nil).output
    }

    /// Data → base with `estimator` (noise per block for Hutchinson).
    func transport(
        _ x: Variable<Scalar>, estimator: TraceEstimator, noise: [Tensor<Scalar>?]?
    ) throws -> (output: FlowOutput<Scalar>, backward: [BackwardCounter]) {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw FlowError.shapeMismatch(expected: [-1, dimension], found: x.shape, what: "multiscale CNF input")
        }
        let n = x.shape[0]
        var h = x
        var logDet: Variable<Scalar>? = nil
        var nfe = 0
        var factored: [Variable<Scalar>] = []
        var backward: [BackwardCounter] = []
        var index = 0
        func run(_ blocks: [CNFBlock<Scalar>], _ input: Variable<Scalar>) throws -> Variable<Scalar> {
            var z = input
            for block in blocks {
                block.dynamics.estimator = estimator
                let out = try block.run(z, reverse: false, noise: noise?[index] ?? nil)
                backward.append(out.backward)
                index += 1
                z = out.z
                let ld = -out.deltaLogP.reshaped([-1])
                logDet = logDet.map { $0 + ld } ?? ld
                nfe += out.stats.nfe
            }
            return z
        }
        for (s, stage) in stages.enumerated() {
            let (c, height, width) = scaleShapes[s]
            h = try run(stage.before, h)
            guard s < stages.count - 1 else { break }
            let squeezed = MultiscaleReshape.squeeze(h.reshaped([n, c, height, width]))
            let c4 = 4 * c
            h = try run(stage.after, squeezed.reshaped([n, c4 * height * width / 4]))
            let parts = MultiscaleReshape.factorOut(h.reshaped([n, c4, height / 2, width / 2]), kept: c4 - c4 / 2)
            factored.append(parts.factored.reshaped([n, -1]))
            h = parts.continuing.reshaped([n, -1])
        }
        return (FlowOutput(value: Variable.concatenate(factored + [h], axis: 1), logDeterminant: logDet!, nfe: nfe), backward)
    }

    public func inverse(_ z: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        guard z.rank == 2, z.shape[1] == dimension else {
            throw FlowError.shapeMismatch(expected: [-1, dimension], found: z.shape, what: "multiscale CNF base sample")
        }
        let n = z.shape[0]
        let shapes = scaleShapes
        // Sizes of the factored parts, in forward order, then the last scale's state.
        var factoredSizes: [Int] = []
        for s in 0..<(stages.count - 1) {
            let (c, h, w) = shapes[s]
            factoredSizes.append((4 * c / 2) * (h / 2) * (w / 2))
        }
        var offset = factoredSizes.reduce(0, +)
        var h = z.slice(axis: 1, offset..<dimension)
        var logDet: Variable<Scalar>? = nil
        var nfe = 0
        func run(_ blocks: [CNFBlock<Scalar>], _ input: Variable<Scalar>) throws -> Variable<Scalar> {
            var x = input
            for block in blocks.reversed() {
                block.dynamics.estimator = .exact
                let out = try block.run(x, reverse: true, noise: nil)
                x = out.z
                let ld = -out.deltaLogP.reshaped([-1])
                logDet = logDet.map { $0 + ld } ?? ld
                nfe += out.stats.nfe
            }
            return x
        }
        for s in stride(from: stages.count - 1, through: 0, by: -1) {
            let (c, height, width) = shapes[s]
            if s < stages.count - 1 {
                offset -= factoredSizes[s]
                let c4 = 4 * c
                let part = z.slice(axis: 1, offset..<(offset + factoredSizes[s])).reshaped([n, c4 / 2, height / 2, width / 2])
                let continuing = h.reshaped([n, c4 - c4 / 2, height / 2, width / 2])
                h = try run(stages[s].after, MultiscaleReshape.merge(continuing, part).reshaped([n, -1]))
                h = MultiscaleReshape.unsqueeze(h.reshaped([n, c4, height / 2, width / 2])).reshaped([n, -1])
            }
            h = try run(stages[s].before, h)
        }
        return FlowOutput(value: h, logDeterminant: logDet!, nfe: nfe)
    }

    public func trainingLoss(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> TrainingLoss<Scalar> {
        let n = x.shape[0]
        var noise: [Tensor<Scalar>?] = []
        for (s, stage) in stages.enumerated() {
            let (c, h, w) = scaleShapes[s]
            for _ in stage.before + stage.after { noise.append(draw([n, c * h * w], &rng)) }
        }
        let (out, backward) = try transport(x, estimator: trainingEstimator, noise: noise)
        let nll = -(standardNormalLogDensity(out.value) + out.logDeterminant).mean()
        return TrainingLoss(loss: nll, nll: Double(nll.value.scalar), nfeForward: out.nfe, backward: backward)
    }

    private func draw(_ shape: [Int], _ rng: inout RandomGenerator) -> Tensor<Scalar>? {
        if case .hutchinson(let kind) = trainingEstimator { return kind.draw(shape, using: &rng) }
        return nil
    }
}
