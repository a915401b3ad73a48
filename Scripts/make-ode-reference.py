#!/usr/bin/env python3
"""Writes Tests/LaminarODETests/Fixtures/reference-values.json: Lotka–Volterra and Van der Pol
states at fixed output times from scipy's DOP853 at rtol = atol = 1e-13 (an implementation
independent of Laminar's). The tests check Laminar's dopri8 at 1e-13 against these values and
every adaptive method at tight tolerances."""
import json, sys
import numpy as np
import scipy
from scipy.integrate import solve_ivp

def lotka(t, y):
    return [1.5 * y[0] - y[0] * y[1], -3.0 * y[1] + y[0] * y[1]]

def vdp(t, y):
    return [y[1], (1 - y[0] ** 2) * y[1] - y[0]]

problems = {
    "lotka_volterra": (lotka, [1.0, 1.0], [0.0, 2.5, 5.0, 7.5, 10.0]),
    "van_der_pol": (vdp, [2.0, 0.0], [0.0, 5.0, 10.0, 15.0, 20.0]),
}
out = {"command": "python3 Scripts/make-ode-reference.py > Tests/LaminarODETests/Fixtures/reference-values.json",
       "tool": f"scipy {scipy.__version__} solve_ivp DOP853 rtol=atol=1e-13", "problems": {}}
for name, (f, y0, times) in problems.items():
    sol = solve_ivp(f, (times[0], times[-1]), y0, method="DOP853", rtol=1e-13, atol=1e-13, t_eval=times)
    assert sol.success
    out["problems"][name] = {"y0": y0, "times": times, "states": sol.y.T.tolist(), "nfe": int(sol.nfev)}
json.dump(out, sys.stdout, indent=1)
print()
