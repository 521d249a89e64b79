#!/usr/bin/env bash
# The GPU check as one shot on a lent GPU machine (no Node, no registry there): unpacks the pack that
# scripts/gpu-check-pack.ts built, records what the machine offers, then runs gpu-check once per
# provider in its own process (a GPU driver that crashes or hangs loses only its own run) and prints
# a Markdown table. Run from the repo root; writes log.txt and one JSON per run into $OUT.
#
#   OUT=/tmp/gpu-check bash packages/vision/scripts/gpu-check-device.sh      # also runs here, on the CPU
#
# Env: GPU_CHECK_ITERATIONS (detect() calls per run, default 200), GPU_CHECK_TIMEOUT (seconds per run,
# default 120), GPU_CHECK_LARGE (1: also compare CPU and WebGPU at 1024×576, default 1).
set -u -o pipefail
: "${OUT:?set OUT to the folder for log.txt and the JSON results}"
PACK=${GPU_CHECK_PACK:-.gpu-pack/gpu-check.tar.xz}
MODEL=${GPU_CHECK_MODEL:-packages/vision/models/centernet-mbv3.onnx}
ITER=${GPU_CHECK_ITERATIONS:-200}
RUN_TIMEOUT=${GPU_CHECK_TIMEOUT:-120}
LARGE=${GPU_CHECK_LARGE:-1}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1

echo "== machine"
date -u +%Y-%m-%dT%H:%M:%SZ
uname -srm
nproc
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem,utilization.gpu --format=csv 2>&1 || true
echo "docker: $(command -v docker || echo 'not installed')"
echo "node on PATH: $(command -v node || echo 'none')"
python3 -c 'import onnxruntime as o; print("python onnxruntime", o.__version__, o.get_available_providers())' 2>&1 || true

# Dawn (ORT's WebGPU) reaches the GPU through the Vulkan loader, which bare CUDA images lack: the
# loader debs travel in .gl (see the device README's recipe). Only unpack them where no loader is
# installed, so a dry run on a workstation never overwrites its libraries.
if ! ldconfig -p | grep -q 'libvulkan.so.1'; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
ldconfig -p | grep -E 'libvulkan.so.1|libGLX_nvidia|libEGL_nvidia' || echo "no Vulkan loader / NVIDIA GL libraries found"
NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$NV_ICD" ]; then
  export VK_DRIVER_FILES=$NV_ICD
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}; ICDs: $(find /usr/share/vulkan/icd.d /etc/vulkan/icd.d -name "*.json" 2>/dev/null | tr "\n" " ")"
# Dawn warns and can refuse without a private runtime dir.
XDG_RUNTIME_DIR=$(mktemp -d)
export XDG_RUNTIME_DIR
chmod 700 "$XDG_RUNTIME_DIR"

echo "== unpack $PACK"
W=$(mktemp -d)
python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter="tar")' "$PACK" "$W" ||
  tar -xJf "$PACK" -C "$W" || exit 3
"$W/node" --version || exit 3

# Evidence that the GPU, not a CPU fallback, ran the WebGPU runs: GPU memory and load sampled every
# 0.5 s beside the log's UTC timestamps (CPU runs should read 0 MiB, WebGPU runs more).
SAMPLER=
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used,clocks.sm --format=csv -lms 500 >"$OUT/gpu-samples.csv" 2>&1 &
  SAMPLER=$!
fi

check() {
  local name=$1
  shift
  echo "== $name $(date -u +%H:%M:%S.%N | cut -c1-12): $*"
  timeout "$RUN_TIMEOUT" "$W/node" "$W/gpu-check.mjs" --model "$MODEL" --frames "$W/frames.json" \
    --json "$OUT/$name.json" "$@"
  local rc=$?
  echo "== $name exit $rc $(date -u +%H:%M:%S.%N | cut -c1-12)"
  return $rc
}
# Which adapter Dawn picked, from ONNX Runtime's verbose log (session creation only).
echo "== webgpu adapter"
ORT_DIR=$W/node_modules/onnxruntime-node MODEL=$MODEL timeout 60 "$W/node" -e '
  const ort = require(process.env.ORT_DIR);
  ort.env.logLevel = "verbose";
  ort.InferenceSession.create(process.env.MODEL, { executionProviders: ["webgpu"], logSeverityLevel: 0, logVerbosityLevel: 0 })
    .then((s) => s.release(), (e) => console.error("webgpu:", e.message));
' 2>&1 | grep -i -E 'adapter|vendor|nvidia|architecture|backend|webgpu:|not assigned|fallback' | head -40

check cpu-2t --provider cpu --threads 2 --iterations "$ITER"
check cpu-16t --provider cpu --threads 16 --iterations "$ITER" --reference "$OUT/cpu-2t.json"
check webgpu --provider webgpu --iterations "$ITER" --reference "$OUT/cpu-2t.json"
webgpu_rc=$?
if [ "$webgpu_rc" = 2 ]; then
  # The provider did not start: once more with the Vulkan loader's own messages, for the record.
  echo "== webgpu-debug (VK_LOADER_DEBUG=error,warn,info)"
  VK_LOADER_DEBUG=error,warn,info timeout 60 "$W/node" "$W/gpu-check.mjs" --model "$MODEL" \
    --frames "$W/frames.json" --provider webgpu --iterations 1 2>&1 | head -c 20000
fi
# 0 or 1: WebGPU ran (1 = boxes differ, still worth timing); a failed or hung provider is not retried.
if [ "$LARGE" = 1 ] && [ "$webgpu_rc" -le 1 ]; then
  # A larger input, where a GPU should pull ahead (frames are upsampled by the detector's own resample).
  check cpu-16t-1024 --provider cpu --threads 16 --input 1024x576 --iterations $((ITER / 2))
  check webgpu-1024 --provider webgpu --input 1024x576 --iterations $((ITER / 2)) --reference "$OUT/cpu-16t-1024.json"
fi

[ -n "$SAMPLER" ] && kill "$SAMPLER"
echo "== after"
nvidia-smi --query-gpu=clocks.sm,clocks.mem,utilization.gpu,memory.used --format=csv 2>&1 || true
echo "== summary"
# shellcheck disable=SC2046
"$W/node" "$W/gpu-check.mjs" --summary $(ls "$OUT"/*.json 2>/dev/null)
