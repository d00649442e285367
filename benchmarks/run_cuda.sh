#!/usr/bin/env bash
# The CUDA checks and figures in docs/benchmarks.md, on a machine with one NVIDIA GPU:
#   bash benchmarks/run_cuda.sh engine    # GPU tests, then every GPU knob on the examples
#   bash benchmarks/run_cuda.sh oracle    # grid against tuner on the CNN example
set -uo pipefail
out=${OUT:-/tmp/autoaccel-cuda}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
case "${1:-engine}" in
  engine)
    autoaccel probe
    python -m pytest -q -p no:cacheprovider tests/gpu_tests tests/probe_tests 2>&1 | tail -5
    python -m pytest -q -p no:cacheprovider -n 8 -m "not gpu" 2>&1 | tail -3
    python benchmarks/engine.py examples/cnn.py '{}' '{"precision": "bf16"}' \
      '{"precision": "fp16"}' '{"precision": "tf32"}' \
      '{"precision": "bf16", "channels_last": true}' \
      '{"precision": "bf16", "channels_last": true, "compile": "default"}' \
      '{"num_workers": 8, "pin_memory": true, "persistent_workers": true}' \
      '{"batch_size": 256, "num_workers": 8, "pin_memory": true, "persistent_workers": true, "precision": "bf16", "channels_last": true}' \
      2>&1 | tee "$out/engine_cnn.txt"
    python benchmarks/engine.py examples/transformer.py --stage deploy '{"batch_size": 256}' \
      '{"batch_size": 256, "precision": "bf16"}' \
      '{"batch_size": 256, "precision": "bf16", "quantization": "fp8_torchao"}' \
      '{"batch_size": 256, "quantization": "int8_weight_only_torchao"}' \
      '{"batch_size": 256, "precision": "bf16", "compile": "default"}' \
      2>&1 | tee "$out/engine_transformer_deploy.txt"
    ;;
  oracle)
    python benchmarks/oracle.py examples/cnn.py --space benchmarks/spaces/cuda_train.yaml \
      --trials 4 --out "$out/oracle_cnn_cuda.json" 2>&1 | tee "$out/oracle_cnn_cuda.txt"
    ;;
esac
