#!/usr/bin/env python3
"""
The ONNX fixtures of dknn-ts (data/pretrained/onnx/), made from PyTorch (Debian's python3-torch):

  /usr/bin/python3 bench/pytorch/export_onnx.py [--out data/pretrained/onnx] [--threads 2] [--epochs 3]

(a) mnist-cnn.onnx: the committed tfjs MNIST CNN (data/pretrained/mnist-cnn, model.json +
    weights.bin; the architecture of lib/models/mnist-cnn.ts) rebuilt layer for layer in PyTorch
    with its very weights (tfjs HWIO kernels -> torch OIHW, the dense kernel transposed), checked
    against the accuracy its model.json records, and exported (opset 13, NCHW input [N, 1, 28, 28],
    dynamic batch, output 'logits'). Modules are named after the tfjs layers (Conv2D0, ReLU1, ...),
    so the ONNX tensor names carry them (e.g. '/ReLU1/Relu_output_0').
(b) resnet-mnist.onnx: a small ResNet-style network (conv stem, three residual blocks with batch
    norm and identity / 1x1-projection skips, global average pooling, a linear head), trained from
    seed 0 on the 60,000 MNIST training images with Adam for --epochs epochs, then exported in eval
    mode (opset 13, NCHW input, output 'logits'); resnet-mnist-softmax.onnx is the same network
    with a Softmax at the end (output 'probabilities'), the case of a model exported with its
    probabilities.

Reads nothing of dknn-ts but its data files. Prints the test accuracy of each model and the
sha256 of each file, and writes <out>/export.json (versions, accuracies, seconds, sha256).
"""
import argparse, hashlib, json, os, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_idx import ROOT, load_mnist  # noqa: E402

OPSET = 13


class MnistCnn(nn.Module):
    """CleverHans' basic CNN (lib/models/mnist-cnn.ts) with the committed tfjs weights."""

    def __init__(self, folder):
        super().__init__()
        meta = json.load(open(os.path.join(folder, 'model.json')))
        raw = np.fromfile(os.path.join(folder, 'weights.bin'), dtype='<f4')
        w, off = {}, 0
        for group in meta['weightsManifest']:
            for spec in group['weights']:
                assert spec['dtype'] == 'float32', spec
                n = int(np.prod(spec['shape']))
                w[spec['name']] = raw[off:off + n].reshape(spec['shape'])
                off += n
        assert off == raw.size, f'weights.bin holds {raw.size} floats, the manifest {off}'
        self.record = meta['userDefinedMetadata']['dknn']['record']
        # TF 'same' padding for 28x28, kernel 8, stride 2: 3 on each side (out 14x14).
        self.Conv2D0 = nn.Conv2d(1, 64, 8, stride=2, padding=3, bias=False)
        self.ReLU1 = nn.ReLU()
        self.Conv2D2 = nn.Conv2d(64, 128, 6, stride=2, bias=False)
        self.ReLU3 = nn.ReLU()
        self.Conv2D4 = nn.Conv2d(128, 128, 5, stride=1, bias=False)
        self.ReLU5 = nn.ReLU()
        self.logits = nn.Linear(128, 10)
        hwio = lambda k: torch.from_numpy(np.ascontiguousarray(k.transpose(3, 2, 0, 1)))
        with torch.no_grad():
            self.Conv2D0.weight.copy_(hwio(w['Conv2D0/kernel']))
            self.Conv2D2.weight.copy_(hwio(w['Conv2D2/kernel']))
            self.Conv2D4.weight.copy_(hwio(w['Conv2D4/kernel']))
            self.logits.weight.copy_(torch.from_numpy(np.ascontiguousarray(w['logits/kernel'].T)))
            self.logits.bias.copy_(torch.from_numpy(w['logits/bias'].copy()))

    def forward(self, x):
        x = self.ReLU1(self.Conv2D0(x))
        x = self.ReLU3(self.Conv2D2(x))
        x = self.ReLU5(self.Conv2D4(x))  # N x 128 x 1 x 1: NCHW and NHWC flatten alike (tfjs' Flatten6)
        return self.logits(torch.flatten(x, 1))


class Block(nn.Module):
    """Two 3x3 conv + batch norm, the input added back (through a 1x1 conv + BN when the shape changes)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip = None
        if stride != 1 or cin != cout:
            self.skip = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.skip is None else self.skip(x)))


class ResNetMnist(nn.Module):
    """stem (3x3, 16) -> block1 (16, identity skip) -> block2 (32, stride 2) -> block3 (64, stride 2) -> pool -> linear."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.block1 = Block(16, 16, 1)  # 28 x 28
        self.block2 = Block(16, 32, 2)  # 14 x 14, 1x1 projection skip
        self.block3 = Block(32, 64, 2)  # 7 x 7, 1x1 projection skip
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.block3(self.block2(self.block1(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


class WithSoftmax(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return F.softmax(self.net(x), dim=1)


def accuracy(model, x, y, batch=1000):
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(torch.from_numpy(x[s:s + batch])).argmax(1) for s in range(0, len(x), batch)])
    return float((pred.numpy() == y).mean())


def export(model, path, output):
    model.eval()
    torch.onnx.export(
        model, torch.zeros(1, 1, 28, 28), path, opset_version=OPSET, input_names=['input'], output_names=[output],
        dynamic_axes={'input': {0: 'batch'}, output: {0: 'batch'}}, do_constant_folding=True,
    )
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def train_resnet(tr, trl, epochs, batch=128):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    net = ResNetMnist()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for epoch in range(epochs):
        net.train()
        order = rng.permutation(len(tr))
        for s in range(0, len(tr), batch):
            i = order[s:s + batch]
            loss = F.cross_entropy(net(torch.from_numpy(tr[i])), torch.from_numpy(trl[i]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f'epoch {epoch + 1}: last batch loss {loss.item():.4f}', flush=True)
    return net


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--out', default=os.path.join(ROOT, 'data', 'pretrained', 'onnx'))
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--epochs', type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    tr, trl, te, tel = load_mnist()
    report = {'torch': torch.__version__, 'numpy': np.__version__, 'opset': OPSET, 'threads': a.threads, 'models': {}}

    cnn = MnistCnn(os.path.join(ROOT, 'data', 'pretrained', 'mnist-cnn'))
    acc = accuracy(cnn, te, tel)
    recorded = cnn.record.get('testAccuracy')
    print(f'mnist-cnn: test accuracy {acc:.4f} in PyTorch (model.json records {recorded})', flush=True)
    if recorded is not None and abs(acc - recorded) > 0.0005:
        raise SystemExit(f'mnist-cnn: the rebuilt network scores {acc}, its model.json records {recorded}: the weights did not transfer')
    sha = export(cnn, os.path.join(a.out, 'mnist-cnn.onnx'), 'logits')
    report['models']['mnist-cnn.onnx'] = {'testAccuracy': acc, 'sha256': sha, 'from': 'data/pretrained/mnist-cnn'}

    t = time.time()
    net = train_resnet(tr, trl, a.epochs)
    seconds = time.time() - t
    acc = accuracy(net, te, tel)
    print(f'resnet-mnist: test accuracy {acc:.4f} after {a.epochs} epoch(s), {seconds:.0f} s of training', flush=True)
    train = {'seed': 0, 'epochs': a.epochs, 'batch': 128, 'optimizer': 'Adam 1e-3', 'seconds': round(seconds, 1), 'images': len(tr)}
    sha = export(net, os.path.join(a.out, 'resnet-mnist.onnx'), 'logits')
    report['models']['resnet-mnist.onnx'] = {'testAccuracy': acc, 'sha256': sha, 'training': train}
    sha = export(WithSoftmax(net), os.path.join(a.out, 'resnet-mnist-softmax.onnx'), 'probabilities')
    report['models']['resnet-mnist-softmax.onnx'] = {'testAccuracy': acc, 'sha256': sha, 'training': 'resnet-mnist.onnx with a Softmax appended'}

    for name, m in report['models'].items():
        print(f"{m['sha256']}  pretrained/onnx/{name}")
    with open(os.path.join(a.out, 'export.json.tmp'), 'w') as f:
        json.dump(report, f, indent=1)
        f.write('\n')
    os.replace(os.path.join(a.out, 'export.json.tmp'), os.path.join(a.out, 'export.json'))


if __name__ == '__main__':
    main()
