#!/usr/bin/env python3
"""Prints the DOP853 coefficients (Hairer's values, as shipped by scipy) used in
Sources/LaminarODE/Tableaus+Dopri8.swift, with the embedded 5th-order weights b − E5."""
from scipy.integrate._ivp import dop853_coefficients as d

print("c =", [float(v) for v in d.C[:12]])
for i in range(1, 12):
    print(f"a[{i}] =", [float(v) for v in d.A[i, :i]])
print("b =", [float(v) for v in d.B])
print("bEmbedded =", [float(d.B[i] - d.E5[i]) for i in range(12)])
