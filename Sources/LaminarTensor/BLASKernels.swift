import CBLAS
import Foundation

/// Makes sure OpenBLAS runs the kernels this CPU can execute fastest.
///
/// Debian's OpenBLAS is built for every x86-64 core and picks its kernels at load time from the
/// CPU's model number. A processor newer than the library does not match any known model and
/// falls back to the oldest kernels ("Prescott", SSE3): on a current Intel Xeon with AVX-512
/// that made a 512×64·64×64 product 2.3× slower and a toy CNF training iteration 2.4× slower
/// (measured). When the detected core is such a fallback but the CPU reports AVX-512 or AVX2
/// with FMA, the kernels are re-selected by feature (`OPENBLAS_CORETYPE`, then OpenBLAS's own
/// `gotoblas_dynamic_init`, looked up at run time so non-dynamic builds are unaffected). A user
/// who sets `OPENBLAS_CORETYPE` keeps their choice.
public enum BLASKernels {
    /// The OpenBLAS core in use after ``ensureBestKernels()``, e.g. `Cooperlake`.
    public static var coreName: String {
        _ = configured
        return openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }

    /// What ``ensureBestKernels()`` did: `nil` when it kept OpenBLAS's choice.
    public private(set) nonisolated(unsafe) static var reselected: (from: String, to: String)?

    /// Runs once, before the first BLAS call (cheap afterwards).
    @inline(__always) public static func ensureBestKernels() { _ = configured }

    private static let configured: Void = {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let name = openblas_get_corename().map({ String(cString: $0) }) else { return }
        let fallbacks: Set<String> = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai",
                                      "Coppermine", "Northwood", "Banias", "Unknown"]
        guard fallbacks.contains(name), let target = bestCoreType(flags: cpuFlags()),
              let quit = symbol("gotoblas_dynamic_quit"), let initialise = symbol("gotoblas_dynamic_init") else { return }
        setenv("OPENBLAS_CORETYPE", target, 1)
        quit()
        initialise()
        reselected = (name, openblas_get_corename().map { String(cString: $0) } ?? target)
    }()

    /// The best OpenBLAS x86-64 core type for a set of `/proc/cpuinfo` flags.
    static func bestCoreType(flags: Set<String>) -> String? {
        let avx512 = ["avx512f", "avx512vl", "avx512bw", "avx512dq", "avx512cd"].allSatisfy(flags.contains)
        if avx512 && flags.contains("avx512_bf16") { return "Cooperlake" }
        if avx512 { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        return nil
    }

    private static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    private typealias VoidFunction = @convention(c) () -> Void

    private static func symbol(_ name: String) -> VoidFunction? {
        guard let handle = dlopen(nil, RTLD_NOW), let pointer = dlsym(handle, name) else { return nil }
        return unsafeBitCast(pointer, to: VoidFunction.self)
    }
}
