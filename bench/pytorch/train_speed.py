#!/usr/bin/env python3
"""
Training throughput of CleverHans' basic CNN in PyTorch: the baseline `npm run bench -- train`
compares dknn-ts' training step with, in the same run.

  /usr/bin/python3 bench/pytorch/train_speed.py [--steps 8] [--batch 500] [--threads 2]

Same network as `dknn_reference.py` (Conv 64 8x8/2 SAME, ReLU, Conv 128 6x6/2 VALID, ReLU,
Conv 128 5x5/1 VALID, ReLU, Dense 10), trained from a fixed random initialisation with Adam
(lr 1e-3) on softmax cross-entropy; images are the first steps x batch MNIST training images
(data/mnist), one warm-up step, then `steps` timed steps. Prints one JSON line:
{"imagesPerSecond": ..., "steps": ..., "batch": ..., "threads": ..., "torch": "<version>"}.
Needs Debian's python3-torch (no faiss here).
"""
import argparse, json, os, sys, time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_idx import ROOT, idx  # noqa: E402


def mnist_train(n):
    root = os.path.join(ROOT, 'data', 'mnist')
    names = os.listdir(root)
    img = next(x for x in names if x.startswith('train-images'))
    lab = next(x for x in names if x.startswith('train-labels'))
    x = idx(os.path.join(root, img))[:n].astype(np.float32) / 255.0
    y = idx(os.path.join(root, lab))[:n].astype(np.int64)
    return torch.from_numpy(x[:, None, :, :].copy()), torch.from_numpy(y.copy())


class Cnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c0 = torch.nn.Conv2d(1, 64, 8, stride=2)
        self.c2 = torch.nn.Conv2d(64, 128, 6, stride=2)
        self.c4 = torch.nn.Conv2d(128, 128, 5, stride=1)
        self.fc = torch.nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.c0(F.pad(x, (3, 3, 3, 3))))  # TF 'same' for 28x28, kernel 8, stride 2
        x = F.relu(self.c2(x))
        x = F.relu(self.c4(x))
        return self.fc(x.flatten(1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--steps', type=int, default=8)
    p.add_argument('--batch', type=int, default=500)
    p.add_argument('--threads', type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    x, y = mnist_train((a.steps + 1) * a.batch)
    model = Cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(i):
        xb, yb = x[i * a.batch:(i + 1) * a.batch], y[i * a.batch:(i + 1) * a.batch]
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()

    step(0)
    t0 = time.perf_counter()
    for i in range(1, a.steps + 1):
        step(i)
    seconds = time.perf_counter() - t0
    print(json.dumps({'imagesPerSecond': a.steps * a.batch / seconds, 'steps': a.steps, 'batch': a.batch,
                      'threads': a.threads, 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
