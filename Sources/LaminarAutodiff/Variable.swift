@_exported import LaminarTensor

/// A tensor with its place in a recorded computation graph.
///
/// Leaves are created by users (`Variable(tensor, requiresGradient: true)` for parameters and
/// inputs); every operation on variables that need gradients records a `Node` whose backward
/// rule is itself written with variable operations. Gradients can therefore be differentiated
/// again (`gradients(of:wrt:createGraph: true)`), which is what the Hutchinson trace term inside
/// an adjoint solve needs.
public final class Variable<Scalar: TensorScalar>: @unchecked Sendable {
    /// The value. Leaves may be reassigned (optimizer steps); recorded results never are.
    public private(set) var value: Tensor<Scalar>
    /// Whether gradients flow to or through this variable.
    public let requiresGradient: Bool
    /// The operation that produced this variable (`nil` for leaves and constants).
    private(set) var node: Node<Scalar>?

    /// A leaf. Pass `requiresGradient: true` for parameters and for inputs you differentiate with
    /// respect to.
    public init(_ value: Tensor<Scalar>, requiresGradient: Bool = false) {
        self.value = value
        self.requiresGradient = requiresGradient
        self.node = nil
    }

    init(value: Tensor<Scalar>, node: Node<Scalar>) {
        self.value = value
        self.requiresGradient = true
        self.node = node
    }

    /// A constant scalar.
    public convenience init(_ scalar: Scalar) {
        self.init(Tensor(scalar))
    }

    /// Shape of ``value``.
    public var shape: [Int] { value.shape }
    /// Number of axes of ``value``.
    public var rank: Int { value.rank }
    /// Number of elements of ``value``.
    public var count: Int { value.count }

    /// True for variables not produced by a recorded operation.
    public var isLeaf: Bool { node == nil }

    /// The same value, cut from the graph.
    public func detached() -> Variable { Variable(value) }

    /// Replaces the value of a leaf (used by optimizers and checkpoint loading).
    public func assign(_ newValue: Tensor<Scalar>) {
        precondition(node == nil, "Variable.assign: only leaves can be reassigned")
        precondition(
            newValue.shape == value.shape,
            "Variable.assign: shape \(newValue.shape) differs from the variable's \(value.shape)")
        value = newValue
    }

    /// Updates a leaf in place: `body` receives the value's buffer.
    public func update(_ body: (inout Tensor<Scalar>) -> Void) {
        precondition(node == nil, "Variable.update: only leaves can be updated")
        let shape = value.shape
        body(&value)
        precondition(value.shape == shape, "Variable.update: the shape must not change")
    }
}

/// A recorded operation: its inputs and a backward rule producing the gradient of each input
/// from the gradient of the output.
final class Node<Scalar: TensorScalar> {
    let name: StaticString
    private(set) var inputs: [Variable<Scalar>]
    private(set) var backward: (Variable<Scalar>, Variable<Scalar>, [Bool]) -> [Variable<Scalar>?]

    init(
        name: StaticString, inputs: [Variable<Scalar>],
        backward: @escaping (Variable<Scalar>, Variable<Scalar>, [Bool]) -> [Variable<Scalar>?]
    ) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }

    /// Tears a dead graph down iteratively. Released recursively, a chain of nodes as long as
    /// the number of recorded operations (backpropagation through thousands of solver steps)
    /// would overflow the stack; instead, inputs that only this node keeps alive hand their
    /// nodes to a work list, and each is emptied in turn.
    deinit {
        guard !inputs.isEmpty else { return }
        var pending: [Node] = []
        Node.empty(self, into: &pending)
        while let node = pending.popLast() { Node.empty(node, into: &pending) }
    }

    private static func empty(_ node: Node, into pending: inout [Node]) {
        node.backward = { _, _, _ in [] }  // drops the rule's captures (usually the inputs)
        var inputs = node.inputs
        node.inputs = []
        for i in inputs.indices where isKnownUniquelyReferenced(&inputs[i]) {
            if let child = inputs[i].takeNode() { pending.append(child) }
        }
    }
}

extension Variable {
    /// Removes and returns the node of a variable that is about to die (graph teardown).
    fileprivate func takeNode() -> Node<Scalar>? {
        defer { node = nil }
        return node
    }
}

/// Whether operations on variables record a graph, per task: on by default, off inside
/// ``withoutGradient(_:)``, on again inside ``withGradient(_:)`` (a task-local value, so
/// concurrent tasks do not affect each other).
public enum GradientMode {
    @TaskLocal static var recording: Bool = true

    /// Whether operations on variables currently record.
    public static var isRecording: Bool { recording }
}

/// Runs `body` with graph recording off (inference, solver bookkeeping).
public func withoutGradient<R>(_ body: () throws -> R) rethrows -> R {
    try GradientMode.$recording.withValue(false, operation: body)
}

/// Runs `body` with graph recording on.
public func withGradient<R>(_ body: () throws -> R) rethrows -> R {
    try GradientMode.$recording.withValue(true, operation: body)
}

extension Variable {
    /// Records `value` as the result of an operation on `inputs`, or returns a constant when no
    /// input needs gradients or recording is off.
    @inline(__always)
    static func record(
        _ name: StaticString, _ value: Tensor<Scalar>, _ inputs: [Variable<Scalar>],
        backward: @escaping (Variable<Scalar>, Variable<Scalar>, [Bool]) -> [Variable<Scalar>?]
    ) -> Variable<Scalar> {
        guard GradientMode.recording, inputs.contains(where: { $0.requiresGradient }) else {
            return Variable(value)
        }
        return Variable(value: value, node: Node(name: name, inputs: inputs, backward: backward))
    }
}

extension Variable: CustomStringConvertible {
    /// The operation that produced the variable (or `leaf`/`constant`) and its value.
    public var description: String {
        "Variable(\(node.map { "\($0.name)" } ?? (requiresGradient ? "leaf" : "constant")), \(value))"
    }
}

extension Variable {
    /// Records a custom operation, for library code whose backward pass is not a composition of
    /// existing operations (e.g. the adjoint of an ODE solve).
    ///
    /// `backward(outputGradient, output, needsGradient)` returns one gradient per input (`nil`
    /// where `needsGradient[i]` is false). If it uses variable operations on its arguments the
    /// gradient is itself differentiable; if it returns constants, differentiating it again
    /// yields zero — document which in the operation's doc comment.
    public static func customOperation(
        _ name: StaticString, value: Tensor<Scalar>, inputs: [Variable<Scalar>],
        backward: @escaping (Variable<Scalar>, Variable<Scalar>, [Bool]) -> [Variable<Scalar>?]
    ) -> Variable<Scalar> {
        record(name, value, inputs, backward: backward)
    }
}
