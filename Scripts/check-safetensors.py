#!/usr/bin/env python3
"""Prints every tensor of a safetensors file as JSON: dtype, shape, sum, first values.

Reads with Python's `safetensors` package when it is installed, otherwise with a small numpy
reader of the format, so that Laminar's writer can be checked by an independent reader
(`Tests/LaminarNNTests/SafetensorsTests.swift` runs it)."""
import json
import struct
import sys

import numpy as np

DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
          "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def read_numpy(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n:]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        array = np.frombuffer(body[begin:end], dtype=np.dtype(DTYPES[info["dtype"]]).newbyteorder("<"))
        tensors[name] = (info["dtype"], array.reshape(info["shape"]))
    return tensors, meta, "numpy"


def read(path):
    try:
        from safetensors.numpy import load_file
        from safetensors import safe_open
    except ImportError:
        return read_numpy(path)
    arrays = load_file(path)
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata() or {}
    raw, _, _ = read_numpy(path)
    return {k: (raw[k][0], v) for k, v in arrays.items()}, meta, "safetensors"


def main():
    tensors, meta, reader = read(sys.argv[1])
    out = {"reader": reader, "metadata": meta, "tensors": {}}
    for name, (dtype, array) in tensors.items():
        flat = array.reshape(-1)
        out["tensors"][name] = {"dtype": dtype, "shape": list(array.shape),
                                "sum": float(flat.astype(np.float64).sum()),
                                "first": [float(v) for v in flat[:4]]}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
