@_exported import LaminarAutodiff
