#!/usr/bin/env python3
"""
An independent re-implementation of the reference DkNN protocol (CleverHans `dknn.py` semantics)
in PyTorch + faiss, run on this project's committed model: the cross-check of `npm run dknn`.

  /usr/bin/python3 bench/pytorch/dknn_reference.py [--attack none|fgsm|bim] [--eps 0.25]
      [--eps-iter 0.05] [--nb-iter 10] [--threads 2] --out results.json

Needs Debian's python3-torch, python3-faiss and libopenblas0-pthread (without OpenBLAS, faiss
uses the reference BLAS and is ~50x slower). Reads nothing of dknn-ts but its data files and
model folder: the MNIST IDX files (data/mnist) and data/pretrained/mnist-cnn (model.json +
weights.bin, tfjs layout: HWIO kernels, NHWC activations).

Protocol: train = the 60,000 training images (kNN database), calibration = test[0:750],
evaluation = test[750:10000]; layers ReLU1, ReLU3, ReLU5, logits, activations flattened in NHWC
order; each L2-normalised then centred on the mean of the normalised training rows; exact search
(faiss IndexFlatL2), k = 75; alpha(x, j) = number of neighbours over all layers whose label is
not j; reference p-values: calibration scores sorted with the zeros trimmed,
p_j = #{A >= alpha_j} / n; prediction argmax p, credibility max p, confidence 1 - second largest.
FGSM / BIM: F.cross_entropy on the model's own argmax labels, sign of the input gradient,
clip to [0, 1] (BIM: projection on the eps ball after each step); crafted on the DNN.
"""
import argparse, json, os, sys, time
import numpy as np
import torch
import torch.nn.functional as F
import faiss

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_idx import ROOT, load_mnist  # noqa: E402


class Cnn(torch.nn.Module):
    """CleverHans' basic CNN with the committed weights (tfjs HWIO kernels -> torch OIHW)."""

    def __init__(self, folder):
        super().__init__()
        meta = json.load(open(os.path.join(folder, 'model.json')))
        raw = np.fromfile(os.path.join(folder, 'weights.bin'), dtype='<f4')
        w, off = {}, 0
        for spec in meta['weightsManifest'][0]['weights']:
            n = int(np.prod(spec['shape']))
            w[spec['name']] = raw[off:off + n].reshape(spec['shape'])
            off += n
        conv = lambda k: torch.from_numpy(np.ascontiguousarray(k.transpose(3, 2, 0, 1)))
        self.k0, self.k2, self.k4 = conv(w['Conv2D0/kernel']), conv(w['Conv2D2/kernel']), conv(w['Conv2D4/kernel'])
        self.wl = torch.from_numpy(np.ascontiguousarray(w['logits/kernel'].T))
        self.bl = torch.from_numpy(w['logits/bias'].copy())

    def layers(self, x):
        # TF 'same' padding for 28x28, kernel 8, stride 2: 3 on each side.
        r1 = F.relu(F.conv2d(F.pad(x, (3, 3, 3, 3)), self.k0, stride=2))
        r3 = F.relu(F.conv2d(r1, self.k2, stride=2))
        r5 = F.relu(F.conv2d(r3, self.k4, stride=1))
        logits = F.linear(r5.flatten(1), self.wl, self.bl)
        nhwc = lambda t: t.permute(0, 2, 3, 1).reshape(t.shape[0], -1)
        return [nhwc(r1), nhwc(r3), nhwc(r5), logits]

    def forward(self, x):
        return self.layers(x)[-1]


def activations(model, x, batch=500):
    out = [[] for _ in range(4)]
    with torch.no_grad():
        for s in range(0, len(x), batch):
            for l, a in enumerate(model.layers(torch.from_numpy(x[s:s + batch]))):
                out[l].append(a.numpy())
    return [np.ascontiguousarray(np.concatenate(o)) for o in out]


def normalise(a):
    n = np.sqrt((a.astype(np.float64) ** 2).sum(1, keepdims=True))
    return np.where(n > 0, a / np.where(n > 0, n, 1), a).astype(np.float32)


def craft(model, x, attack, eps, eps_iter, nb_iter, batch=250):
    out = np.empty_like(x)
    for s in range(0, len(x), batch):
        x0 = torch.from_numpy(x[s:s + batch])
        with torch.no_grad():
            y = model(x0).argmax(1)
        adv = x0.clone()
        steps = [(eps, 1)] if attack == 'fgsm' else [(eps_iter, nb_iter)]
        for step, count in steps:
            for _ in range(count):
                adv.requires_grad_(True)
                loss = F.cross_entropy(model(adv), y, reduction='sum')
                g, = torch.autograd.grad(loss, adv)
                with torch.no_grad():
                    adv = adv + step * g.sign()
                    if attack == 'bim':
                        adv = x0 + torch.clamp(adv - x0, -eps, eps)
                    adv = torch.clamp(adv, 0, 1)
        out[s:s + batch] = adv.detach().numpy()
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--attack', default='none', choices=['none', 'fgsm', 'bim'])
    p.add_argument('--eps', type=float, default=0.25)
    p.add_argument('--eps-iter', type=float, default=0.05)
    p.add_argument('--nb-iter', type=int, default=10)
    p.add_argument('--k', type=int, default=75)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--out', required=True)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    faiss.omp_set_num_threads(a.threads)
    t = {}
    t0 = time.time()
    tr, trl, te, tel = load_mnist()
    model = Cnn(os.path.join(ROOT, 'data', 'pretrained', 'mnist-cnn'))
    calib, calib_l, ev, ev_l = te[:750], tel[:750], te[750:], tel[750:]
    t['load'] = time.time() - t0

    t0 = time.time()
    train_acts = [normalise(x) for x in activations(model, tr)]
    centres = [x.mean(0, dtype=np.float64).astype(np.float32) for x in train_acts]
    indexes = []
    for x, c in zip(train_acts, centres):
        ix = faiss.IndexFlatL2(x.shape[1])
        ix.add(x - c)
        indexes.append(ix)
    del train_acts
    t['fit (extract + preprocess + index)'] = time.time() - t0

    def neighbour_counts(x):
        counts = np.zeros((len(x), 10), dtype=np.int64)
        for acts, c, ix in zip(activations(model, x), centres, indexes):
            _, nb = ix.search(normalise(acts) - c, a.k)
            lab = trl[nb]
            for j in range(10):
                counts[:, j] += (lab == j).sum(1)
        return counts

    t0 = time.time()
    cal_alpha = 4 * a.k - neighbour_counts(calib)[np.arange(750), calib_l]
    scores = np.trim_zeros(np.sort(cal_alpha))
    t['calibrate'] = time.time() - t0

    x = ev
    if a.attack != 'none':
        t0 = time.time()
        x = craft(model, ev, a.attack, a.eps, a.eps_iter, a.nb_iter)
        t[f'craft {a.attack}'] = time.time() - t0
    t0 = time.time()
    alpha = 4 * a.k - neighbour_counts(x)
    pv = (scores[None, None, :] >= alpha[:, :, None]).sum(2) / len(scores)
    pred = pv.argmax(1)
    srt = np.sort(pv, 1)
    cred, conf = srt[:, -1], 1 - srt[:, -2]
    with torch.no_grad():
        logits = torch.cat([model(torch.from_numpy(x[s:s + 1000])) for s in range(0, len(x), 1000)])
    prob = F.softmax(logits, 1)
    dnn_pred, dnn_conf = prob.argmax(1).numpy(), prob.max(1).values.numpy()
    t['predict'] = time.time() - t0
    out = {
        'kind': 'pytorch-reference', 'attack': a.attack, 'settings': {'eps': a.eps, 'epsIter': a.eps_iter, 'nbIter': a.nb_iter, 'k': a.k, 'threads': a.threads},
        'versions': {'torch': torch.__version__, 'faiss': faiss.__version__, 'numpy': np.__version__},
        'calibrationSize': int(len(scores)), 'seconds': t,
        'summary': {'dnnAccuracy': float((dnn_pred == ev_l).mean()), 'dknnAccuracy': float((pred == ev_l).mean()), 'meanCredibility': float(cred.mean())},
        'inputs': {'testIndex': list(range(750, 10000)), 'label': ev_l.tolist(), 'prediction': pred.tolist(), 'credibility': cred.tolist(),
                   'confidence': conf.tolist(), 'dnnPrediction': dnn_pred.tolist(), 'dnnConfidence': dnn_conf.tolist()},
    }
    with open(a.out + '.tmp', 'w') as f:
        json.dump(out, f)
    os.replace(a.out + '.tmp', a.out)
    print(json.dumps({k: v for k, v in out.items() if k != 'inputs'}, indent=1))


if __name__ == '__main__':
    main()
