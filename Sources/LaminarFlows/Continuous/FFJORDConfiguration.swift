import LaminarODE

/// Everything needed to rebuild an FFJORD model; stored in checkpoints as JSON.
public struct FFJORDConfiguration: Codable, Sendable, Equatable {
    /// Data dimension.
    public var dimension: Int
    /// Hidden widths of the dynamics network, e.g. `[64, 64, 64]`.
    public var hidden: [Int]
    /// Time conditioning of each layer: `concatsquash` (default), `concat`, `ignore`.
    public var layerType: String
    /// Nonlinearity between layers: `tanh`, `softplus`, `elu`, `swish`.
    public var activation: String
    /// FFJORD's `residual`: dynamics `net(t, z) − z`.
    public var residual: Bool
    /// Number of stacked CNF blocks.
    public var blocks: Int
    /// Integration length T of each block.
    public var timeLength: Double
    /// Whether T is learned.
    public var trainTime: Bool
    /// Training trace estimator (`exact`, `hutchinson-gaussian`, `hutchinson-rademacher`).
    public var trace: String
    /// Solver method, tolerances, gradient mode and step limit of every block's solves.
    public var solve: SolveSettings
    /// Weight λ_K of the kinetic energy ∫‖f‖² dt (Finlay et al. 2020; 0: not computed).
    public var kineticWeight: Double
    /// Weight λ_J of the Jacobian Frobenius norm ∫‖∂f/∂z‖²_F dt (0: not computed).
    public var jacobianWeight: Double
    /// The dynamics network: `mlp` (``MLPVectorField``) or `hollow` (``HollowVectorField``, whose
    /// exact divergence costs one extra pass; `hidden` then counts units per dimension).
    public var field: String

    /// Names `field` accepts.
    public static let fieldNames = ["mlp", "hollow"]

    /// FFJORD's toy-data defaults (hidden 64-64-64, concatsquash, tanh, one block, T = 0.5
    /// learned, dopri5 at 1e-5, adjoint (``SolveSettings``'s defaults), Hutchinson for training
    /// when d > 8 else exact; the hollow field always defaults to the exact trace).
    public init(
        dimension: Int, hidden: [Int] = [64, 64, 64], layerType: String = "concatsquash",
        activation: String = "tanh", residual: Bool = false, blocks: Int = 1, timeLength: Double = 0.5, trainTime: Bool = true,
        trace: String? = nil, solve: SolveSettings = SolveSettings(), kineticWeight: Double = 0, jacobianWeight: Double = 0,
        field: String = "mlp"
    ) {
        self.dimension = dimension
        self.hidden = hidden
        self.layerType = layerType
        self.activation = activation
        self.residual = residual
        self.blocks = blocks
        self.timeLength = timeLength
        self.trainTime = trainTime
        self.trace = trace ?? (dimension <= 8 || field == "hollow" ? "exact" : "hutchinson-gaussian")
        self.solve = solve
        self.kineticWeight = kineticWeight
        self.jacobianWeight = jacobianWeight
        self.field = field
    }

    enum CodingKeys: String, CodingKey {
        case dimension, hidden, layerType, activation, residual, blocks, timeLength, trainTime, trace
        case kineticWeight, jacobianWeight, field
    }

    /// Decodes the JSON of a checkpoint; fields added after a checkpoint was written take their
    /// defaults (`residual`: false, `field`: mlp). The solve settings are flat keys of the same object.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dimension = try c.decode(Int.self, forKey: .dimension)
        hidden = try c.decode([Int].self, forKey: .hidden)
        layerType = try c.decode(String.self, forKey: .layerType)
        activation = try c.decode(String.self, forKey: .activation)
        residual = try c.decodeIfPresent(Bool.self, forKey: .residual) ?? false
        blocks = try c.decode(Int.self, forKey: .blocks)
        timeLength = try c.decode(Double.self, forKey: .timeLength)
        trainTime = try c.decode(Bool.self, forKey: .trainTime)
        trace = try c.decode(String.self, forKey: .trace)
        solve = try SolveSettings(from: decoder)
        kineticWeight = try c.decode(Double.self, forKey: .kineticWeight)
        jacobianWeight = try c.decode(Double.self, forKey: .jacobianWeight)
        field = try c.decodeIfPresent(String.self, forKey: .field) ?? "mlp"
    }

    /// Encodes the settings for a checkpoint, the solve settings as flat keys of the same object;
    /// `field` only for the hollow field, so MLP configurations encode exactly as before that key
    /// existed.
    public func encode(to encoder: any Encoder) throws {
        try solve.encode(flatWith: self, keyedBy: CodingKeys.self, omitting: field == "mlp" ? ["field"] : [], to: encoder)
    }

    /// Checks every field; the message names the field and the accepted values.
    public func validate() throws {
        func fail(_ s: String) -> FlowError { .invalidConfiguration(s) }
        guard dimension >= 1 else { throw fail("dimension must be ≥ 1, got \(dimension)") }
        guard !hidden.isEmpty, hidden.allSatisfy({ $0 > 0 }) else {
            throw fail("hidden widths must be positive, e.g. 64-64-64; got \(hidden)")
        }
        guard ODENetLayerType(rawValue: layerType) != nil else {
            throw fail("layer type '\(layerType)' unknown; use concatsquash, concat or ignore")
        }
        guard blocks >= 1 else { throw fail("blocks must be ≥ 1, got \(blocks)") }
        guard timeLength > 0, timeLength.isFinite else { throw fail("time length must be > 0, got \(timeLength)") }
        guard TraceEstimator(name: trace) != nil else {
            throw fail("trace '\(trace)' unknown; use exact, hutchinson-gaussian or hutchinson-rademacher")
        }
        try validateSolveSettings(solve)
        guard kineticWeight >= 0, jacobianWeight >= 0 else { throw fail("regularization weights must be ≥ 0") }
        guard Self.fieldNames.contains(field) else {
            throw fail("field '\(field)' unknown; use \(Self.fieldNames.joined(separator: " or "))")
        }
        if field == "hollow" {
            guard trace == "exact" else {
                throw fail("the hollow field's divergence is exact at the cost of one extra pass; train it with trace exact, not \(trace)")
            }
            guard !residual else { throw fail("the hollow field has no residual form; drop residual") }
            guard jacobianWeight == 0 else {
                throw fail("the Jacobian Frobenius regularizer needs vector–Jacobian products; it is not available with the hollow field")
            }
        }
    }
}

/// Checks the solve settings shared by every continuous model (as a configuration error).
func validateSolveSettings(_ settings: SolveSettings) throws {
    do { try settings.validate() } catch { throw FlowError.invalidConfiguration("\(error)") }
}

/// Errors of model construction and use.
public enum FlowError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)
    case shapeMismatch(expected: [Int], found: [Int], what: String)
    case nonFinite(String)

    /// What went wrong, in one line.
    public var description: String {
        switch self {
        case .invalidConfiguration(let s): return "invalid model configuration: \(s)"
        case .shapeMismatch(let e, let f, let what): return "\(what): expected shape \(e), found \(f)"
        case .nonFinite(let s): return "non-finite values: \(s)"
        }
    }
}
