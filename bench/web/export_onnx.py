#!/usr/bin/python3
"""Write a prefrec NeuMF pack as ONNX graphs (Debian's python3-onnx), for bench/web.

  /usr/bin/python3 bench/web/export_onnx.py PACK OUTDIR

Both graphs score every product for one customer and return the top 30 (TopK), inputs
u [1,d] (customer vector, zeros for a cold start), x [1,4] (male, female, (age-45)/15,
age unknown), cb [1] (customer bias), mask [P] (0, or -1e9 for bought products):
  neumf_full.onnx   the model as trained: [u; v_p; x] through the MLP for every product
  neumf_split.onnx  the engine's inference split: W1[:, d:2d] v_p + b1 precomputed per product
                    (a constant), the customer half computed once per request
Scores are clamp(b0 + cb + b_p + w_g.(u*v_p) + w_m.a_L, 0, 5), as src/core/model.c."""
import json
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

K = 30


def read_pack(path):
    b = open(path, "rb").read()
    mo, ms = struct.unpack_from("<II", b, 24)
    man = json.loads(b[mo:mo + ms])
    to, n = struct.unpack_from("<II", b, 32)
    t = {}
    for i in range(n):
        e = to + 64 * i
        name = b[e:e + 32].split(b"\0")[0].decode()
        dtype, ndim = struct.unpack_from("<II", b, e + 32)
        shape = struct.unpack_from("<4I", b, e + 40)[:ndim]
        off, = struct.unpack_from("<Q", b, e + 56)
        if dtype == 0:
            t[name] = np.frombuffer(b, np.float32, int(np.prod(shape)), off).reshape(shape)
    return man, t


def graph(man, t, split):
    d, P = man["dim"], t["product.emb"].shape[0]
    L = len(man["mlp"])
    W = [t[f"mlp.{l}.w"] for l in range(L)]
    B = [t[f"mlp.{l}.b"] for l in range(L)]
    V = t["product.emb"]
    init = [numpy_helper.from_array(V, "V"), numpy_helper.from_array(t["product.bias"], "pb"),
            numpy_helper.from_array(t["out.gmf"].reshape(1, d), "wg"),
            numpy_helper.from_array(t["out.mlp"].reshape(-1, 1), "wm"),
            numpy_helper.from_array(t["out.bias"].reshape(1), "b0"),
            numpy_helper.from_array(np.array([K], np.int64), "k"),
            numpy_helper.from_array(np.array(0, np.float32), "lo"),
            numpy_helper.from_array(np.array(5, np.float32), "hi"),
            numpy_helper.from_array(np.array([P, d], np.int64), "Pd"),
            numpy_helper.from_array(np.array([P, 4], np.int64), "P4"),
            numpy_helper.from_array(np.array([P], np.int64), "Pv")]
    nodes = []
    if split:
        p1 = (V @ W[0][:, d:2 * d].T + B[0]).astype(np.float32)       # [P, h1], at export
        init += [numpy_helper.from_array(p1, "P1"),
                 numpy_helper.from_array(np.ascontiguousarray(W[0][:, :d].T), "W1u"),
                 numpy_helper.from_array(np.ascontiguousarray(W[0][:, 2 * d:].T), "W1x")]
        nodes += [helper.make_node("MatMul", ["u", "W1u"], ["cu"]),
                  helper.make_node("MatMul", ["x", "W1x"], ["cx"]),
                  helper.make_node("Add", ["cu", "cx"], ["c1"]),            # [1, h1]
                  helper.make_node("Add", ["P1", "c1"], ["z0"]),
                  helper.make_node("Relu", ["z0"], ["a0"]),
                  helper.make_node("Mul", ["u", "wg"], ["ug"]),             # [1, d]
                  helper.make_node("Gemm", ["V", "ug"], ["gmf"], transB=1)]  # [P, 1]
    else:
        init += [numpy_helper.from_array(W[0], "W0"), numpy_helper.from_array(B[0], "B0")]
        nodes += [helper.make_node("Expand", ["u", "Pd"], ["U"]),
                  helper.make_node("Expand", ["x", "P4"], ["X"]),
                  helper.make_node("Concat", ["U", "V", "X"], ["h0"], axis=1),  # [P, 2d+4]
                  helper.make_node("Gemm", ["h0", "W0", "B0"], ["z0"], transB=1),
                  helper.make_node("Relu", ["z0"], ["a0"]),
                  helper.make_node("Mul", ["U", "V"], ["uv"]),
                  helper.make_node("MatMul", ["uv", "wg_col"], ["gmf"])]
        init.append(numpy_helper.from_array(t["out.gmf"].reshape(d, 1), "wg_col"))
    a = "a0"
    for l in range(1, L):
        init += [numpy_helper.from_array(W[l], f"W{l}"), numpy_helper.from_array(B[l], f"B{l}")]
        nodes += [helper.make_node("Gemm", [a, f"W{l}", f"B{l}"], [f"z{l}"], transB=1),
                  helper.make_node("Relu", [f"z{l}"], [f"a{l}"])]
        a = f"a{l}"
    nodes += [helper.make_node("MatMul", [a, "wm"], ["mlp"]),               # [P, 1]
              helper.make_node("Add", ["mlp", "gmf"], ["s1"]),
              helper.make_node("Reshape", ["s1", "Pv"], ["s2"]),
              helper.make_node("Add", ["s2", "pb"], ["s3"]),
              helper.make_node("Add", ["b0", "cb"], ["bias"]),
              helper.make_node("Add", ["s3", "bias"], ["s4"]),
              helper.make_node("Clip", ["s4", "lo", "hi"], ["score"]),
              helper.make_node("Add", ["score", "mask"], ["masked"]),
              helper.make_node("TopK", ["masked", "k"], ["values", "indices"])]
    f = TensorProto.FLOAT
    g = helper.make_graph(nodes, "prefrec_neumf_" + ("split" if split else "full"),
                          [helper.make_tensor_value_info("u", f, [1, d]),
                           helper.make_tensor_value_info("x", f, [1, 4]),
                           helper.make_tensor_value_info("cb", f, [1]),
                           helper.make_tensor_value_info("mask", f, [P])],
                          [helper.make_tensor_value_info("values", f, [K]),
                           helper.make_tensor_value_info("indices", TensorProto.INT64, [K])],
                          init)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="prefrec bench/web")
    m.ir_version = 7
    onnx.checker.check_model(m)
    return m


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    man, t = read_pack(sys.argv[1])
    for split in (False, True):
        path = f"{sys.argv[2]}/neumf_{'split' if split else 'full'}.onnx"
        onnx.save(graph(man, t, split), path)
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
