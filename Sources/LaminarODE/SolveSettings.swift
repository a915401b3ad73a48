/// What a user chooses for the solves of a model: the method, the tolerances, how gradients
/// flow through the solve and the step limit. Declared once here, embedded in every model
/// configuration and stored in checkpoints.
///
/// The coded form is flat — `method` (a tableau name), `rtol`, `atol`, `gradient` (a name from
/// ``GradientMethod/names``), `maxSteps` and `stepSize` when not the defaults, and
/// `adjointRtol`/`adjointAtol` when the adjoint's
/// backward solve has its own tolerances — so that a configuration can encode these keys next to
/// its own (`try settings.encode(to: encoder)` in its `encode(to:)`), and checkpoints written
/// before this type existed, which hold the first four keys (classifiers: all but `method`,
/// which then means dopri5), decode unchanged.
public struct SolveSettings: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The Runge–Kutta method.
    public var method: Tableau
    /// Relative tolerance of the mixed error test `|e| ≤ atol + rtol·max(|y₀|,|y₁|)`.
    public var rtol: Double
    /// Absolute tolerance: the error allowed on components near zero, in the state's units.
    public var atol: Double
    /// How gradients flow through the solve.
    public var gradient: GradientMethod
    /// Largest number of steps (accepted + rejected) per solve before `maxStepsExceeded`.
    public var maxSteps: Int
    /// The step of a fixed-step method (`euler`, `midpoint`, `rk4`); ignored by adaptive ones.
    public var stepSize: Double?

    /// The models' default: dopri5 at rtol = atol = 1e-5, adjoint with seminorm, 100,000 steps.
    public init(
        method: Tableau = .dopri5, rtol: Double = 1e-5, atol: Double = 1e-5, gradient: GradientMethod = .adjoint,
        maxSteps: Int = 100_000, stepSize: Double? = nil
    ) {
        self.stepSize = stepSize
        self.method = method
        self.rtol = rtol
        self.atol = atol
        self.gradient = gradient
        self.maxSteps = maxSteps
    }

    /// The forward solve's options.
    public var odeOptions: ODEOptions {
        ODEOptions(method: method, rtol: rtol, atol: atol, maxSteps: maxSteps, stepSize: method.isAdaptive ? nil : stepSize)
    }

    /// E.g. `dopri5 rtol 1e-05 atol 1e-05, adjoint`.
    public var description: String { "\(method.name) rtol \(rtol) atol \(atol), \(gradient.name)" }

    /// Checks the ranges; the message names the setting and the accepted values.
    public func validate() throws {
        guard rtol > 0, atol > 0, rtol.isFinite, atol.isFinite else {
            throw ODEError.invalidOptions("tolerances must be positive, got rtol \(rtol), atol \(atol)")
        }
        guard maxSteps >= 1 else { throw ODEError.invalidOptions("maxSteps must be ≥ 1, got \(maxSteps)") }
        if !method.isAdaptive {
            guard let h = stepSize, h > 0, h.isFinite else {
                throw ODEError.invalidOptions(
                    "the fixed-step method \(method.name) needs a step size (--step-size, e.g. 0.05); adaptive methods: \(Tableau.all.filter(\.isAdaptive).map(\.name).joined(separator: ", "))")
            }
        }
        if case .adjoint(let a) = gradient {
            if let r = a.rtol, !(r > 0 && r.isFinite) { throw ODEError.invalidOptions("adjoint rtol must be positive, got \(r)") }
            if let r = a.atol, !(r > 0 && r.isFinite) { throw ODEError.invalidOptions("adjoint atol must be positive, got \(r)") }
        }
    }

    enum CodingKeys: String, CodingKey {
        case method, rtol, atol, gradient, maxSteps, stepSize, adjointRtol, adjointAtol
    }

    /// Decodes the flat form. A missing `method` means dopri5 and a missing `maxSteps` 100,000
    /// (checkpoints written before those keys); `adjointRtol`/`adjointAtol` set the adjoint's own
    /// tolerances. An unknown method or gradient name throws `DecodingError.dataCorrupted` listing
    /// the known ones.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decodeIfPresent(String.self, forKey: .method) ?? "dopri5"
        guard let method = Tableau.named(name) else {
            throw DecodingError.dataCorruptedError(
                forKey: .method, in: c, debugDescription: "unknown solver '\(name)'; known: \(Tableau.names.joined(separator: ", "))")
        }
        let gradientName = try c.decode(String.self, forKey: .gradient)
        guard var gradient = GradientMethod(name: gradientName) else {
            throw DecodingError.dataCorruptedError(
                forKey: .gradient, in: c,
                debugDescription: "unknown gradient '\(gradientName)'; known: \(GradientMethod.names.joined(separator: ", "))")
        }
        if case .adjoint(var options) = gradient {
            options.rtol = try c.decodeIfPresent(Double.self, forKey: .adjointRtol)
            options.atol = try c.decodeIfPresent(Double.self, forKey: .adjointAtol)
            gradient = .adjoint(options)
        }
        self.init(
            method: method, rtol: try c.decode(Double.self, forKey: .rtol), atol: try c.decode(Double.self, forKey: .atol),
            gradient: gradient, maxSteps: try c.decodeIfPresent(Int.self, forKey: .maxSteps) ?? 100_000,
            stepSize: try c.decodeIfPresent(Double.self, forKey: .stepSize))
    }

    /// Encodes the flat form: `maxSteps` only when not 100,000, `stepSize` and the adjoint's
    /// tolerances only when set, so that default settings encode exactly as before those keys
    /// existed.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(method.name, forKey: .method)
        try c.encode(rtol, forKey: .rtol)
        try c.encode(atol, forKey: .atol)
        try c.encode(gradient.name, forKey: .gradient)
        // Only when changed: configurations with the default encode exactly as before this key existed.
        if maxSteps != 100_000 { try c.encode(maxSteps, forKey: .maxSteps) }
        try c.encodeIfPresent(stepSize, forKey: .stepSize)
        if case .adjoint(let options) = gradient {
            try c.encodeIfPresent(options.rtol, forKey: .adjointRtol)
            try c.encodeIfPresent(options.atol, forKey: .adjointAtol)
        }
    }
}

extension Tableau {
    /// Names of every method, adaptive first (what `--solver` accepts).
    public static var names: [String] { all.map(\.name) }
}

extension GradientMethod {
    /// Names of the gradient modes (what `--gradient` accepts).
    public static let names = ["adjoint", "adjoint-full-norm", "backprop", "checkpointed"]

    /// The name ``init(name:)`` parses back (the adjoint's backward tolerances are not part of it).
    public var name: String {
        switch self {
        case .backprop: return "backprop"
        case .adjoint(let options): return options.seminorm ? "adjoint" : "adjoint-full-norm"
        case .checkpointedAdjoint: return "checkpointed"
        }
    }
}
