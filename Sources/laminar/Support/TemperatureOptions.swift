import ArgumentParser
import Laminar

/// `--temperature` of the commands that draw from a trained flow (`sample`, `score`), and the
/// scaled base samples it describes.
struct TemperatureOptions: ParsableArguments {
    @Option(help: "Scale of the base samples (1 = the model).")
    var temperature: Double = 1

    func validate() throws {
        guard temperature > 0, temperature <= 10 else { throw ValidationError("--temperature must be in (0, 10], got \(temperature)") }
    }

    /// `count` draws of the standard normal base of a `dimension`-D flow, scaled by the temperature.
    func baseSamples(_ count: Int, dimension: Int, using rng: inout RandomGenerator) -> Tensor<Float> {
        let z = Tensor<Float>.randomNormal([count, dimension], using: &rng)
        return temperature == 1 ? z : z * Float(temperature)
    }
}
