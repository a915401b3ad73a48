/// Time-independent layers applied in order, with parameters named by position (`0.weight`,
/// `1.bias`, … as in PyTorch's `nn.Sequential`). Parameterless steps (activations) take a slot
/// in the numbering too.
public final class Sequential<Scalar: TensorScalar>: Layer {
    /// One step: a function and the parameters it uses.
    public struct Step {
        let parameters: [(String, Variable<Scalar>)]
        let apply: (Variable<Scalar>) -> Variable<Scalar>

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
            Step(parameters: layer.namedParameters, apply: { layer($0) })
        }

        /// An activation.
        public static func activation(_ a: Activation) -> Step {
            Step(parameters: [], apply: { a($0) })
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

    /// Applies the steps in order to `x`; shapes are whatever the steps take and return.
    public func callAsFunction(_ x: Variable<Scalar>) -> Variable<Scalar> {
        steps.reduce(x) { h, step in step.apply(h) }
    }
}
