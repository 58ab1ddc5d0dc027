#!/usr/bin/python3
"""bench/train_torch.py - the prefrec NeuMF model (docs/model.md) in PyTorch, trained on the
exact pairs and split that `prefrec train --dump-pairs DIR` wrote, for bench/train.sh.

Same architecture (shared customer/product embeddings + biases; GMF branch w_g . (u * v); MLP on
[u, v, male, female, (age-45)/15, age_unknown] with ReLU; final linear layer over both), same
loss (MSE + l2 * (|u|^2 + |v|^2) per pair, batch mean), same optimiser (Adam on dense weights,
SparseAdam on embedding rows: the lazy Adam prefrec uses), batch size, epochs, initialisation
scheme. Prints one line per epoch and a final JSON line:
  {"impl": "torch", "threads": T, "epochs": E, "sec_per_epoch": ..., "best_valid_rmse": ...}
Usage: bench/train_torch.py PAIRS.csv [--epochs 5] [--batch 256] [--dim 32] [--layers 64,32]
       [--lr 0.002] [--l2 0.1] [--threads (all CPUs)] [--seed 1]
The peer's configuration (bench/peer_config.py) goes to stderr first; the JSON line lists the
problems that make it not PyTorch at its best ("problems": [] when none).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_config  # noqa: E402


def load(path):
    a = np.genfromtxt(path, delimiter=",", skip_header=1, filling_values=np.nan)
    c = a[:, 0].astype(np.int64)
    p = a[:, 1].astype(np.int64)
    y = a[:, 2].astype(np.float32)
    g = a[:, 3]
    age = a[:, 4]
    valid = a[:, 5].astype(bool)
    demo = np.zeros((len(a), 4), dtype=np.float32)
    demo[:, 0] = g == 0
    demo[:, 1] = g == 1
    known = ~np.isnan(age)
    demo[known, 2] = (age[known] - 45.0) / 15.0
    demo[~known, 3] = 1.0
    return c, p, y, demo, valid


class NeuMF(nn.Module):
    def __init__(self, n_c, n_p, dim, layers, std, mean):
        super().__init__()
        self.cu = nn.Embedding(n_c, dim, sparse=True)
        self.pv = nn.Embedding(n_p, dim, sparse=True)
        self.cb = nn.Embedding(n_c, 1, sparse=True)
        self.pb = nn.Embedding(n_p, 1, sparse=True)
        for e in (self.cu, self.pv):
            nn.init.normal_(e.weight, 0.0, std)
        for e in (self.cb, self.pb):
            nn.init.zeros_(e.weight)
        mods, width = [], 2 * dim + 4
        for h in layers:
            lin = nn.Linear(width, h)
            nn.init.normal_(lin.weight, 0.0, math.sqrt(2.0 / width))  # He, as prefrec
            nn.init.zeros_(lin.bias)
            mods += [lin, nn.ReLU()]
            width = h
        self.mlp = nn.Sequential(*mods)
        self.wg = nn.Parameter(torch.ones(dim))
        self.out = nn.Linear(width, 1)
        nn.init.normal_(self.out.weight, 0.0, math.sqrt(1.0 / width))
        nn.init.constant_(self.out.bias, mean)

    def forward(self, c, p, demo):
        u, v = self.cu(c), self.pv(p)
        h = self.mlp(torch.cat([u, v, demo], dim=1))
        y = (u * v * self.wg).sum(1) + self.out(h).squeeze(1) + self.cb(c).squeeze(1) + self.pb(p).squeeze(1)
        return y, u, v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pairs")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--layers", default="64,32")
    ap.add_argument("--lr", type=float, default=0.002)
    ap.add_argument("--l2", type=float, default=0.1)
    ap.add_argument("--std", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=peer_config.cpus())
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    peer_config.configure(a.threads, use_torch=True)
    problems = peer_config.report(a.threads, use_torch=True)
    torch.manual_seed(a.seed)
    c, p, y, demo, valid = load(a.pairs)
    tr = ~valid
    C, P = int(c.max()) + 1, int(p.max()) + 1
    tc, tp_, ty, td = (torch.from_numpy(x[tr]) for x in (c, p, y, demo))
    vc, vp, vy, vd = (torch.from_numpy(x[valid]) for x in (c, p, y, demo))
    model = NeuMF(C, P, a.dim, [int(x) for x in a.layers.split(",")], a.std, float(ty.mean()))
    sparse = [model.cu.weight, model.pv.weight, model.cb.weight, model.pb.weight]
    dense = [q for q in model.parameters() if all(q is not s for s in sparse)]
    opt_s = torch.optim.SparseAdam(sparse, lr=a.lr)
    opt_d = torch.optim.Adam(dense, lr=a.lr)
    n = len(ty)
    gen = torch.Generator().manual_seed(a.seed)
    times, best = [], float("inf")
    for ep in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        sse = 0.0
        model.train()
        for b in range(0, n, a.batch):
            idx = perm[b:b + a.batch]
            pred, u, v = model(tc[idx], tp_[idx], td[idx])
            err = pred - ty[idx]
            mse = (err * err).mean()
            loss = mse + a.l2 * ((u * u).sum(1) + (v * v).sum(1)).mean()
            opt_s.zero_grad()
            opt_d.zero_grad()
            loss.backward()
            opt_s.step()
            opt_d.step()
            sse += float(mse) * len(idx)
        dt = time.perf_counter() - t0
        times.append(dt)
        with torch.no_grad():
            pred, _, _ = model(vc, vp, vd)
            rmse = float(torch.sqrt(((pred.clamp(0, 5) - vy) ** 2).mean()))
        best = min(best, rmse)
        print(f"torch epoch {ep:2d}/{a.epochs}  train loss {sse / n:.4f}  valid RMSE {rmse:.4f}  {dt:.3f} s/epoch",
              file=sys.stderr, flush=True)
    print(json.dumps({"impl": "torch", "torch": torch.__version__, "threads": a.threads, "epochs": a.epochs,
                      "batch": a.batch, "train_pairs": n, "valid_pairs": int(valid.sum()),
                      "sec_per_epoch": sum(times) / len(times), "best_valid_rmse": best,
                      "problems": problems}))


if __name__ == "__main__":
    main()
