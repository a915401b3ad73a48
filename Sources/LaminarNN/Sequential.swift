/// Time-independent layers applied in order, with parameters named by position (`0.weight`,
/// `1.bias`, … as in PyTorch's `nn.Sequential`). Parameterless steps (activations) take a slot
/// in the numbering too.
public final class Sequential<Scalar: TensorScalar>: Layer {
    /// One step: a function and the parameters it uses.
    public struct Step {
        let parameters: [(String, Variable<Scalar>)]
        let apply: (Variable<Scalar>) -> Variable<Scalar>
        /// Set for group normalisation steps, which absorb a following activation step.
        var normalization: GroupNorm<Scalar>?
        /// Set for activation steps.
        var activation: Activation?

        /// A linear layer.
        public static func linear(_ layer: Linear<Scalar>) -> Step {
            Step(parameters: layer.namedParameters, apply: { layer($0) })
        }

        /// A convolution layer.
        public static func conv(_ layer: Conv2d<Scalar>) -> Step {
            Step(parameters: layer.namedParameters, apply: { layer($0) })
        }

        /// A group normalisation layer.
        public static func groupNorm(_ layer: GroupNorm<Scalar>) -> Step {
            Step(parameters: layer.namedParameters, apply: { layer($0) }, normalization: layer)
        }

        /// An activation.
        public static func activation(_ a: Activation) -> Step {
            Step(parameters: [], apply: { a($0) }, activation: a)
        }
    }

    /// The steps, applied first to last.
    public let steps: [Step]

    /// A stack of `steps`, applied in order.
    public init(_ steps: [Step]) { self.steps = steps }

    /// Each step's parameters prefixed with its position (`0.weight`, `2.bias`, …).
    public var namedParameters: [(String, Variable<Scalar>)] {
        steps.enumerated().flatMap { i, step in prefixed("\(i)", step.parameters) }
    }

    /// Applies the steps in order to `x`; shapes are whatever the steps take and return. A group
    /// normalisation followed by an activation runs as one fused operation
    /// (``GroupNorm/callAsFunction(_:then:)``).
    public func callAsFunction(_ x: Variable<Scalar>) -> Variable<Scalar> {
        var h = x, i = 0
        while i < steps.count {
            if let norm = steps[i].normalization, i + 1 < steps.count, let activation = steps[i + 1].activation {
                h = norm(h, then: activation)
                i += 2
            } else {
                h = steps[i].apply(h)
                i += 1
            }
        }
        return h
    }
}
