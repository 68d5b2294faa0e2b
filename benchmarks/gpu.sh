#!/usr/bin/env bash
# The GPU check: the train-step, hardware-step, LD-SNN inference and cost-sweep benchmarks on one CUDA
# device, with JAX's own CUDA build (no snnTorch), in under 5 minutes. Prints the figures; writes nothing.
#
# Run from a checkout on a machine with an NVIDIA GPU:   bash benchmarks/gpu.sh
# It installs hwsnn and jax[cuda12] at the installed JAX's version unless JAX already sees a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
has_gpu() { python3 -c 'import jax, sys; sys.exit(jax.default_backend() != "gpu")' 2>/dev/null; }
if ! has_gpu; then
  python3 -m pip install -q -e .
  version=$(python3 -c 'import jax; print(jax.__version__)')
  python3 -m pip install -q "jax[cuda12]==${version}"
fi
has_gpu || { echo "gpu.sh: JAX sees no GPU (jax.devices(): $(python3 -c 'import jax; print(jax.devices())'))" >&2; exit 1; }
python3 -c 'import jax; print("device:", jax.devices()[0].device_kind, "| jax", jax.__version__)'
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
cd benchmarks
echo "== train step (hwsnn vs the hand-written JAX scan) =="
timeout 150 python3 bench_train_step.py --no-snntorch --rounds 5
echo "== hardware in the loop (crossbar step / ideal step) =="
timeout 100 python3 bench_hardware_step.py --model both --processes 1 --rounds 3
echo "== LD-SNN: per-layer-T inference against uniform T = 8 (batch 1 and 256) =="
timeout 120 python3 bench_ld_snn.py --processes 1 --rounds 3
echo "== cost-model sweep =="
timeout 40 python3 bench_cost_sweep.py
