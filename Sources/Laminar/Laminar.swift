// The umbrella module: `import Laminar` gives the whole public API.
@_exported import LaminarTensor
@_exported import LaminarAutodiff
@_exported import LaminarODE
@_exported import LaminarNN
@_exported import LaminarTraining
@_exported import LaminarData
@_exported import LaminarImaging
@_exported import LaminarFlows
@_exported import LaminarClassifiers
@_exported import LaminarLatentODE
@_exported import LaminarSDE
@_exported import LaminarDistributed
