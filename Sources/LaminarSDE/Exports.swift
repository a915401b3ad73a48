@_exported import LaminarODE
