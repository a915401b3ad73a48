import Foundation
import Testing
import LaminarFlows
import LaminarODE

/// Model configurations are stored in checkpoints as one flat JSON object: their own keys next
/// to the solve settings' (`method`, `rtol`, `atol`, `gradient`, …). These tests pin the keys
/// each configuration writes and check that what is written reads back equal.
@Suite struct ConfigurationCodingTests {
    static let solveKeys: Set<String> = ["method", "rtol", "atol", "gradient"]

    /// The top-level keys of `value`'s JSON, and the value decoded back from it.
    func encodedKeys<C: Codable & Equatable>(_ value: C) throws -> (keys: Set<String>, roundTrip: C) {
        let data = try JSONEncoder().encode(value)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return (Set(object.keys), try JSONDecoder().decode(C.self, from: data))
    }

    @Test func ffjordWritesTheFieldOnlyForTheHollowField() throws {
        let own: Set<String> = [
            "dimension", "hidden", "layerType", "activation", "residual", "blocks", "timeLength", "trainTime", "trace",
            "kineticWeight", "jacobianWeight",
        ]
        let mlp = FFJORDConfiguration(dimension: 2, solve: SolveSettings(rtol: 1e-4, atol: 1e-6, maxSteps: 500))
        let (mlpKeys, mlpBack) = try encodedKeys(mlp)
        #expect(mlpKeys == own.union(Self.solveKeys).union(["maxSteps"]))
        #expect(mlpBack == mlp)
        let hollow = FFJORDConfiguration(dimension: 3, hidden: [4], field: "hollow")
        let (hollowKeys, hollowBack) = try encodedKeys(hollow)
        #expect(hollowKeys == own.union(Self.solveKeys).union(["field"]))
        #expect(hollowBack == hollow)
    }

    @Test func planarMultiscaleAndUNetWriteTheirOwnKeysAndTheSolveSettings() throws {
        let planar = PlanarCNFConfiguration(dimension: 2, width: 5, solve: SolveSettings(method: .rk4, stepSize: 0.1))
        let (planarKeys, planarBack) = try encodedKeys(planar)
        #expect(planarKeys == Self.solveKeys.union(["dimension", "width", "hyperHidden", "timeLength", "stepSize"]))
        #expect(planarBack == planar)

        let multiscale = MultiscaleCNFConfiguration(channels: 1, height: 4, width: 4, kineticWeight: 0.01)
        let (multiscaleKeys, multiscaleBack) = try encodedKeys(multiscale)
        #expect(multiscaleKeys == Self.solveKeys.union([
            "channels", "height", "width", "scales", "blocksPerScale", "hidden", "activation", "trace", "timeLength",
            "trainTime", "kineticWeight", "jacobianWeight",
        ]))
        #expect(multiscaleBack == multiscale)

        let unet = UNetCNFConfiguration(channels: 1, height: 8, width: 8, hidden: [8, 8], groups: 4)
        let (unetKeys, unetBack) = try encodedKeys(unet)
        #expect(unetKeys == Self.solveKeys.union(["channels", "height", "width", "hidden", "groups", "trace", "timeLength"]))
        #expect(unetBack == unet)
    }
}
