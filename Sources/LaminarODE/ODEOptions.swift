/// Method, tolerances and step control of a solve. Defaults are torchdiffeq's (dopri5,
/// rtol 1e-7, atol 1e-9), shared by ``odeint(_:_:times:options:gradient:)-(_,_,Variable<D.Scalar>,_,_)`` and
/// ``solveIVP(_:y0:times:method:rtol:atol:stepSize:maxSteps:)``.
public struct ODEOptions: Sendable {
    /// dopri5, as torchdiffeq's `odeint`.
    public static let defaultMethod = Tableau.dopri5
    /// `rtol` = 1e-7, as torchdiffeq's `odeint`.
    public static let defaultRelativeTolerance = 1e-7
    /// `atol` = 1e-9, as torchdiffeq's `odeint`.
    public static let defaultAbsoluteTolerance = 1e-9
    /// At most 100 000 steps (accepted + rejected) per solve.
    public static let defaultMaxSteps = 100_000

    /// The Runge–Kutta method.
    public var method: Tableau
    /// Relative and absolute tolerances of the mixed error test `|e| ≤ atol + rtol·max(|y₀|,|y₁|)`.
    public var rtol: Double
    /// Absolute tolerance (see ``rtol``).
    public var atol: Double
    /// How component errors combine into one number.
    public var norm: ErrorNorm
    /// First step size; nil selects it automatically (Hairer, Nørsett & Wanner, II.4).
    public var firstStep: Double?
    /// Largest number of steps (accepted + rejected) before `maxStepsExceeded`.
    public var maxSteps: Int
    /// Step-size controller: safety factor and bounds of the growth factor per step.
    public var safety: Double
    /// Smallest factor by which one step may shrink the next (0.2).
    public var minFactor: Double
    /// Largest factor by which one step may grow the next (10).
    public var maxFactor: Double
    /// PI controller's β (Hairer's stabilisation, 0.04 in DOPRI5; 0 gives a plain I controller).
    public var beta: Double
    /// Fixed-step methods: the step size, or an explicit increasing/decreasing grid from the
    /// first to the last output time.
    public var stepSize: Double?
    /// Fixed-step methods: explicit step boundaries from the first to the last output time.
    public var grid: [Double]?

    /// Options with torchdiffeq's defaults: dopri5, `rtol` 1e-7, `atol` 1e-9, RMS norm, automatic
    /// first step, safety 0.9, step factors in [0.2, 10], PI controller β = 0.04.
    public init(
        method: Tableau = defaultMethod, rtol: Double = defaultRelativeTolerance,
        atol: Double = defaultAbsoluteTolerance, norm: ErrorNorm = .rms,
        firstStep: Double? = nil, maxSteps: Int = defaultMaxSteps, safety: Double = 0.9, minFactor: Double = 0.2,
        maxFactor: Double = 10, beta: Double = 0.04, stepSize: Double? = nil, grid: [Double]? = nil
    ) {
        self.method = method
        self.rtol = rtol
        self.atol = atol
        self.norm = norm
        self.firstStep = firstStep
        self.maxSteps = maxSteps
        self.safety = safety
        self.minFactor = minFactor
        self.maxFactor = maxFactor
        self.beta = beta
        self.stepSize = stepSize
        self.grid = grid
    }
}

/// Statistics of one solve.
public struct ODEStats: Sendable, Equatable, CustomStringConvertible {
    /// Evaluations of the right-hand side.
    public var nfe = 0
    /// Steps whose error passed the test.
    public var acceptedSteps = 0
    /// Steps retried with a smaller size.
    public var rejectedSteps = 0
    /// Size of the last accepted step (signed).
    public var finalStepSize = 0.0
    /// The step the controller would take next (signed; 0 for fixed-step methods): not cut
    /// short by the end of the interval, so a following solve can start with it.
    public var proposedStepSize = 0.0

    /// Zero counts.
    public init() {}

    /// NFE, accepted and rejected steps and the last step size, on one line.
    public var description: String {
        "NFE \(nfe), accepted \(acceptedSteps), rejected \(rejectedSteps), last step \(finalStepSize)"
    }
}

/// Failures of a solve. Each description says what happened and what usually helps.
public enum ODEError: Error, CustomStringConvertible, Equatable {
    case stepSizeUnderflow(t: Double, h: Double)
    case nonFinite(t: Double)
    case maxStepsExceeded(t: Double, steps: Int)
    case nonMonotoneTimes(index: Int)
    case invalidOptions(String)
    /// The right-hand side returned a derivative whose layout differs from the state's.
    case stateShapeMismatch(t: Double, detail: String)
    /// A solve over a span was given fewer than two output times.
    case tooFewOutputTimes(count: Int)

    /// What happened and what usually helps.
    public var description: String {
        switch self {
        case .stepSizeUnderflow(let t, let h):
            return "step size underflow at t = \(t) (h = \(h)): the solution may blow up there, or the problem is stiff; check the dynamics or loosen rtol/atol"
        case .nonFinite(let t):
            return "the state or its derivative became NaN or infinite at t = \(t); check the dynamics and the initial state"
        case .maxStepsExceeded(let t, let steps):
            return "the maximum number of steps (\(steps)) was reached at t = \(t): the problem may be stiff; increase maxSteps or loosen rtol/atol"
        case .nonMonotoneTimes(let index):
            return "output times must be strictly increasing or strictly decreasing; entry \(index) breaks the order"
        case .invalidOptions(let s):
            return "invalid solver options: \(s)"
        case .stateShapeMismatch(let t, let detail):
            return "the right-hand side returned a derivative of \(detail) at t = \(t); it must return one derivative per state element, laid out like the state"
        case .tooFewOutputTimes(let count):
            return "a solve needs at least two output times (the start and the end of the span), got \(count)"
        }
    }
}
