#!/usr/bin/env bash
# Issue 24, item 4: the one prepared command for a lent GPU (the `device` tool; docs/landscape.md, "On a GPU").
#
# 1. the trainer's GPU tests (tests/core/landscape/test_accelerated_training.py: CPU and GPU agree);
# 2. θ trained with the shipped recipe on the GPU, for ITERATIONS iterations of BATCH faces or MINUTES of
#    training, whichever ends first, then its start search and a gate on the GPU.
# Everything lands in $OUT (at most 8 files, 2 folders down, as the tool returns them): device.txt, tests.log,
# train.log, theta/theta.safetensors, theta/theta.json. Whether θ ships is then decided on the CPU here:
# `python -m bench landscape --theta DIR --faces 256` and the same at 10 steps on 512 faces, paired against the
# shipped θ. The same script runs on a CPU (DEVICE=cpu, tiny settings) to check it before GPU time is spent.
set -uo pipefail
: "${OUT:?set OUT to the folder the results go to}"
DEVICE=${DEVICE:-cuda}
ITERATIONS=${ITERATIONS:-2400}
BATCH=${BATCH:-128}
MINUTES=${MINUTES:-6}
PYTHON=${PYTHON:-python3}
EXTRA=${EXTRA:-}  # more train-landscape flags (the CPU check: a smaller start search and gate)
export PYTHONUNBUFFERED=1 LANDSCAPE_STUDIO_DATA=${LANDSCAPE_STUDIO_DATA:-/tmp/landscape-studio-data}
mkdir -p "$OUT"

{
    nvidia-smi -L 2>&1 || echo "no nvidia-smi here"
    "$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
} > "$OUT/device.txt" 2>&1

LS_TEST_ACCELERATOR=$DEVICE "$PYTHON" -m pytest -q -p no:cacheprovider -p no:pytest-qt -m gpu \
    tests/core/landscape/test_accelerated_training.py > "$OUT/tests.log" 2>&1
tests=$?

# shellcheck disable=SC2086  # EXTRA is a list of flags
"$PYTHON" -m core.cli train-landscape --device "$DEVICE" --model default --schedule --adaptive --learn-start \
    --encoder-start 0.85 --objective log_last --schedule-lr 0.005 --batch "$BATCH" --iterations "$ITERATIONS" \
    --minutes "$MINUTES" --validate-every 40 --out "$OUT/theta" --quiet $EXTRA > "$OUT/train.log" 2>&1
trained=$?

echo "tests: exit $tests; training: exit $trained" | tee -a "$OUT/device.txt"
[ "$tests" -eq 0 ] && [ "$trained" -eq 0 ]
