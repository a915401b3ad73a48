/// Bytes held by the recorded graph behind `outputs`: the values of every recorded operation
/// reachable from them (leaves and constants excluded). After a forward solve this is the
/// memory a gradient method keeps for its backward pass — it grows with the number of solver
/// steps under back-propagation and stays flat under the adjoint.
public func recordedGraphBytes<S>(_ outputs: [Variable<S>]) -> Int {
    var seen = Set<ObjectIdentifier>()
    var stack = outputs
    var bytes = 0
    while let v = stack.popLast() {
        guard let node = v.node, seen.insert(ObjectIdentifier(v)).inserted else { continue }
        bytes += v.count * MemoryLayout<S>.stride
        stack.append(contentsOf: node.inputs)
    }
    return bytes
}
