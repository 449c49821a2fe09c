"""MNIST from the repository's IDX files (data/mnist), for the PyTorch scripts of bench/pytorch.

Kept free of torch and faiss imports so that every script here can use it, whatever it needs beside.
"""
import gzip, os, struct
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def idx(path):
    """An IDX file (gzipped or not) as a uint8 array of its shape."""
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack('>' + 'I' * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist():
    """Train images, train labels, test images, test labels: images NCHW float32 in [0, 1], labels int64."""
    d = os.path.join(ROOT, 'data', 'mnist')
    tr = idx(os.path.join(d, 'train-images-idx3-ubyte.gz')).astype(np.float32) / 255
    trl = idx(os.path.join(d, 'train-labels-idx1-ubyte.gz')).astype(np.int64)
    te = idx(os.path.join(d, 't10k-images-idx3-ubyte.gz')).astype(np.float32) / 255
    tel = idx(os.path.join(d, 't10k-labels-idx1-ubyte.gz')).astype(np.int64)
    return tr[:, None], trl, te[:, None], tel
