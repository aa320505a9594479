#!/usr/bin/env bash
# One prepared run for a lent GPU: the CUDA tests and every benchmark with --device cuda,
# all output in one file. Fits in 8 minutes on an H100/H200 (each step has its own limit).
#
#   make gpu-wheels                       # here: the wheels the GPU image lacks, into gpu_wheels/
#   bash benchmarks/gpu.sh [out.md]       # there (device run, carry=[gpu_wheels]): writes out.md
#   DEVICE=cpu QUICK=1 bash benchmarks/gpu.sh /tmp/dry.md   # a dry run of the script on a CPU
#
# Python: PY, else the project's .venv, else python3 (the GPU image's, which holds torch); the
# carried wheels (hydra-core, omegaconf, kornia, diffusers, av, ...) are installed into
# .gpu_site without touching that interpreter's packages.
set -u
OUT=${1:-gpu_table.md}
DEVICE=${DEVICE:-cuda}
QUICK=${QUICK:-0}
if [ -n "${PY:-}" ]; then :; elif [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
if [ -d gpu_wheels ] && [ ! -x .venv/bin/python ]; then
  "$PY" -m pip install -q --no-index --no-deps --target .gpu_site gpu_wheels/* >/dev/null 2>&1 \
    || echo "warning: some carried wheels did not install" >&2
  export PYTHONPATH=".gpu_site:.${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}"
fi
if [ "$QUICK" = 1 ]; then
  CLIPS=64; PAIRS=16; FRAMES=10; BASE=20; LORA=10; SWINGS=48
else
  CLIPS=10000; PAIRS=4096; FRAMES=100; BASE=300; LORA=100; SWINGS=10000
fi

: > "$OUT"
step() {  # step <title> <seconds> <command...>: its output, exit code and time into $OUT
  local title=$1 limit=$2 start rc
  shift 2
  start=$(date +%s)
  printf '\n## %s\n\n```\n' "$title" >> "$OUT"
  timeout "$limit" "$@" >> "$OUT" 2>&1
  rc=$?
  printf '```\n(exit %s, %s s)\n' "$rc" "$(( $(date +%s) - start ))" >> "$OUT"
}

{
  echo "# corrkin on $DEVICE: $(date -u +%Y-%m-%dT%H:%MZ)"
  "$PY" -c "import torch; print('torch', torch.__version__, '|', torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no CUDA')"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
} >> "$OUT" 2>&1

step "CUDA tests (tests that need CUDA and the batched-equals-alone checks)" 120 \
  "$PY" -m pytest -q -p no:cacheprovider -k "cuda or batch_invariance" tests/ops tests/analysis
step "analysis engine, $CLIPS clips x 300 frames" 120 \
  "$PY" benchmarks/analysis.py --device "$DEVICE" --clips "$CLIPS" --skip-reference --skip-cli --repeats 3
step "links across swings, $SWINGS swings" 60 \
  "$PY" benchmarks/links.py --device "$DEVICE" --swings "$SWINGS"
step "DTW and soft-DTW, $PAIRS pairs" 90 \
  "$PY" benchmarks/dtw.py --device "$DEVICE" --pairs "$PAIRS" --skip-baselines
step "bat stage (and corrkin run beside MediaPipe alone), $FRAMES frames" 90 \
  "$PY" benchmarks/bat.py --device "$DEVICE" --skip-accuracy --speed-frames "$FRAMES"
step "technique model: base $BASE and LoRA $LORA training steps" 120 \
  "$PY" benchmarks/technique.py --device "$DEVICE" --base-steps "$BASE" --lora-steps "$LORA" --samples 16
echo "wrote $OUT"
