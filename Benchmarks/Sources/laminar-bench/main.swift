import Foundation
import Laminar

// laminar-bench [case …] [--threads N] [--smoke] [--out DIR] [--weights FILE]
// Cases: blas, autodiff, solver, cnf-toy, memory, classify, images, hollow, flow-matching,
// ot-coupling, sde, conv, groupnorm; and, under mpirun only (not in the default list), allreduce.
var arguments = Array(CommandLine.arguments.dropFirst())
@MainActor func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    let value = arguments[i + 1]
    arguments.removeSubrange(i...(i + 1))
    return value
}
let smoke = arguments.contains("--smoke")
arguments.removeAll { $0 == "--smoke" }
let threads = Int(option("--threads") ?? "1") ?? 1
let outDirectory = option("--out") ?? "Benchmarks/results"
let weights = option("--weights")
let memoryChild = option("--memory-child")
let all = ["blas", "autodiff", "solver", "cnf-toy", "memory", "classify", "images", "hollow", "flow-matching", "ot-coupling", "sde", "conv", "groupnorm"]
let cases = arguments.isEmpty ? all : arguments
if Harness.isDebug {
    FileHandle.standardError.write(Data("laminar-bench: debug build — numbers are meaningless; build with -c release\n".utf8))
    if !smoke { exit(2) }
}
BLASThreads.set(threads)
let settings = BenchSettings(smoke: smoke, threads: threads)

if let memoryChild {
    // "gradient:steps" — one measurement, printed as JSON on stdout for the parent.
    let parts = memoryChild.split(separator: ":")
    let m = try memoryCase(settings, gradient: String(parts[0]), steps: Int(parts[1])!)
    print(String(decoding: try JSONEncoder().encode(m), as: UTF8.self))
    exit(0)
}

for name in cases {
    let measurements: [Measurement]
    switch name {
    case "blas": measurements = blasCase(settings)
    case "autodiff": measurements = try autodiffCase(settings)
    case "solver": measurements = try solverCase(settings)
    case "cnf-toy": measurements = try cnfToyCase(settings, weightsOut: weights)
    case "classify": measurements = try classifyCase(settings)
    case "images": measurements = try imagesCase(settings)
    case "hollow": measurements = try hollowCase(settings)
    case "flow-matching": measurements = try flowMatchingCase(settings)
    case "sde": measurements = try sdeCase(settings)
    case "allreduce": measurements = try allReduceCase(settings)
    case "ot-coupling": measurements = try otCouplingCase(settings)
    case "conv": measurements = try convCase(settings)
    case "groupnorm": measurements = try groupNormCase(settings)
    case "memory":
        var collected: [Measurement] = []
        for gradient in ["adjoint", "backprop", "checkpointed"] {
            for steps in (smoke ? [4] : [10, 100]) {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
                p.arguments = ["--memory-child", "\(gradient):\(steps)"] + (smoke ? ["--smoke"] : [])
                let pipe = Pipe()
                p.standardOutput = pipe
                try p.run()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                collected += try JSONDecoder().decode([Measurement].self, from: data)
            }
        }
        measurements = collected
    default:
        FileHandle.standardError.write(Data("laminar-bench: unknown case '\(name)'; cases: \(all.joined(separator: ", ")); under mpirun: allreduce\n".utf8))
        exit(2)
    }
    guard Distributed.joined?.isRoot ?? true else { continue }  // under mpirun, rank 0 writes
    let formatter = ISO8601DateFormatter()
    try Harness.write(
        CaseResult(case: name, threads: threads, commit: Harness.commit, machine: Harness.machine,
                   date: formatter.string(from: Date()), debug: Harness.isDebug, measurements: measurements),
        to: outDirectory)
}
