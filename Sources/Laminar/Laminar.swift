@_exported import LaminarTensor
