@_exported import LaminarAutodiff

/// A module with trainable parameters. Parameters are `Variable` leaves held by reference, so
/// an optimizer and a checkpoint loader update the layer in place.
public protocol Layer<Scalar>: AnyObject {
    associatedtype Scalar: TensorScalar
    /// Parameters with dotted names, in a stable order (the checkpoint keys, PyTorch-style:
    /// `weight`, `bias`, `hyper_gate.weight`, …).
    var namedParameters: [(String, Variable<Scalar>)] { get }
}

extension Layer {
    /// The parameters in `namedParameters` order.
    public var parameters: [Variable<Scalar>] { namedParameters.map(\.1) }
}

/// A layer whose output depends on time as well as on its input (the building block of ODE
/// dynamics).
public protocol TimeConditionedLayer<Scalar>: Layer {
    /// `x` is a batch ([n, features]); `t` is rank 0.
    func callAsFunction(t: Variable<Scalar>, x: Variable<Scalar>) -> Variable<Scalar>
}

/// Prefixes the names of a layer's parameters (`prefix.name`).
public func prefixed<S>(_ prefix: String, _ parameters: [(String, Variable<S>)]) -> [(String, Variable<S>)] {
    parameters.map { ("\(prefix).\($0.0)", $0.1) }
}
