#!/usr/bin/env bash
# The PyTorch cross-check: the reference protocol in PyTorch + faiss (dknn_reference.py) and
# dknn-ts' CLI on the same committed model and inputs, then the comparison
# (bench/results/pytorch-crosscheck.{json,md}). Runs one thing at a time (2 cores each).
#   bash bench/pytorch/run.sh [work-dir]      (~40 min on the 2-core machine)
# Needs Debian's python3-torch, python3-faiss and libopenblas0-pthread:
#   apt-get install python3-torch python3-faiss libopenblas0-pthread
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
if ! $PY -c 'import torch, faiss' 2>/dev/null; then
  echo "bench/pytorch: skipped: $PY cannot import torch and faiss (apt-get install python3-torch python3-faiss libopenblas0-pthread)" >&2
  exit 0
fi
W=${1:-.cache/pytorch-crosscheck}
mkdir -p "$W"
npm run build >/dev/null
# Each run starts from nothing (no activation or adversarial cache), as the PyTorch runs do; a
# result already in the work folder is kept (delete it to measure again).
run() { local out="${@: -1}"; if [ -s "$out" ]; then echo "== kept $out" >&2; else echo "== $*" >&2; "$@"; fi; }
run $PY bench/pytorch/dknn_reference.py --attack none --out "$W/pt-clean.json"
run $PY bench/pytorch/dknn_reference.py --attack fgsm --eps 0.25 --out "$W/pt-fgsm.json"
run $PY bench/pytorch/dknn_reference.py --attack bim --eps 0.25 --eps-iter 0.05 --nb-iter 10 --out "$W/pt-bim.json"
run node lib/dist/cli/dknn.js --no-cache --out "$W/ts-clean.json"
run node lib/dist/cli/dknn.js --no-cache --attack fgsm --eps 0.25 --gradient reference --out "$W/ts-fgsm.json"
run node lib/dist/cli/dknn.js --no-cache --attack fgsm --eps 0.25 --gradient exact --out "$W/ts-fgsm-exact.json"
run node lib/dist/cli/dknn.js --no-cache --attack bim --eps 0.25 --eps-iter 0.05 --nb-iter 10 --gradient reference --out "$W/ts-bim.json"
npx tsx bench/pytorch/compare.ts \
  "clean=$W/ts-clean.json,$W/pt-clean.json" \
  "FGSM ε 0.25, reference gradient=$W/ts-fgsm.json,$W/pt-fgsm.json" \
  "FGSM ε 0.25, exact gradient (not the reference's)=$W/ts-fgsm-exact.json,$W/pt-fgsm.json" \
  "BIM ε 0.25, 10 × 0.05, reference gradient=$W/ts-bim.json,$W/pt-bim.json"
