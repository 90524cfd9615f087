#!/usr/bin/env bash
# GPU checks for a machine with an NVIDIA GPU, in one go, within 6 minutes.
# Run from the repository root. Either after building here (build/ergon), or on
# a machine without ergon's libraries after `bash tests/device/pack.sh` has
# written .devkit/ (carry it along):
#   bash tests/device/run.sh [OUTDIR]
# Prints (and writes to OUTDIR/device-report.txt): the machine, the GPU, the
# energy counter's update period and idle power, and for every CUDA learner
# under evaluators/*/ its energy under the nvml meter on 3 instances with the
# coefficient of variation, and a CPU reference; then the test cases that need
# a GPU.
set -uo pipefail
out=${1:-${OUT:-/tmp}}
mkdir -p "$out"
report="$out/device-report.txt"
exec > >(tee "$report") 2>&1
root=$PWD

if [ -d .devkit ]; then
  # Only the libraries this machine lacks: its own are newer and shared with
  # nvcc and the driver.
  mkdir -p /tmp/ergon-devlib
  for lib in .devkit/lib/*; do
    so=$(basename "$lib")
    ldconfig -p | grep -q "[[:space:]]$so[[:space:]]" || ln -sf "$root/$lib" "/tmp/ergon-devlib/$so"
  done
  export LD_LIBRARY_PATH="/tmp/ergon-devlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export PATH="$root/.devkit/bin:$PATH"
  ergon=$root/.devkit/bin/ergon
  learning_test=$root/.devkit/bin/learning_test
  # The binaries were built in /work/main and look for their data there.
  if [ ! -e /work/main ]; then mkdir -p /work && ln -s "$root" /work/main; fi
  export ERGON_HOME=$root
  char_lm_test=$root/.devkit/bin/char_lm_test
  fashion_mnist_test=$root/.devkit/bin/fashion_mnist_test
  # char_lm reads its corpus where Debian's fortunes package puts it.
  if [ ! -e /usr/share/games/fortunes/cookie ] && [ -d .devkit/fortunes ]; then
    mkdir -p /usr/share/games && cp -r .devkit/fortunes /usr/share/games/fortunes
  fi
  # fashion_mnist reads Debian's dataset-fashion-mnist where the package puts it.
  if [ ! -e /usr/share/datasets/fashion-mnist ] && [ -d .devkit/fashion-mnist ]; then
    mkdir -p /usr/share/datasets && cp -r .devkit/fashion-mnist /usr/share/datasets/fashion-mnist
  fi
else
  ergon=${ERGON:-build/ergon}
  learning_test=build/tests/learning_test
  char_lm_test=build/tests/char_lm_test
  fashion_mnist_test=build/tests/fashion_mnist_test
fi
echo "libraries taken from .devkit: $(ls /tmp/ergon-devlib 2>/dev/null | tr '\n' ' ')"

echo "== machine $(date -u +%FT%TZ)"
uname -r; grep PRETTY_NAME /etc/os-release
nvidia-smi --query-gpu=name,driver_version,power.draw,clocks.sm,clocks.mem --format=csv || echo "nvidia-smi failed"
ls -l /dev/nvidia* 2>&1 | head
ldconfig -p | grep -E 'libcuda.so|libnvidia-ml.so' | head -4
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
command -v nvcc g++ bwrap valgrind
"$ergon" doctor

echo "== nvcc outside the sandbox (is the toolchain sane?)"
cat > /tmp/ergon-hello.cu <<'CU'
#include <cstdio>
__global__ void add_one(int* x) { x[threadIdx.x] += 1; }
int main() {
  int* d; int h[4] = {1, 2, 3, 4};
  if (cudaMalloc(&d, sizeof h) != cudaSuccess) { std::puts("cudaMalloc failed"); return 1; }
  cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
  add_one<<<1, 4>>>(d);
  cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost);
  std::printf("hello %d %d %d %d (%s)\n", h[0], h[1], h[2], h[3], cudaGetErrorString(cudaGetLastError()));
  return 0;
}
CU
t0=$(date +%s.%N)
nvcc -O2 -std=c++17 -o /tmp/ergon-hello /tmp/ergon-hello.cu && /tmp/ergon-hello
echo "nvcc compile+run: $(python3 -c "print(round($(date +%s.%N) - $t0, 2))") s"
echo "== the same program inside bubblewrap as uid 65534 with the device nodes bound (the sandbox's shape)"
hd=$(mktemp -d /var/tmp/ergon-hello-XXXXXX); cp /tmp/ergon-hello "$hd/"; chmod 755 "$hd" "$hd/ergon-hello"
devs=(); for d in /dev/nvidia*; do devs+=(--dev-bind "$d" "$d"); done
bwrap --unshare-all --die-with-parent --new-session --cap-drop ALL --unshare-user --uid 65534 --gid 65534 \
  --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp "${devs[@]}" --bind "$hd" "$hd" --chdir "$hd" --clearenv \
  --setenv PATH /usr/local/bin:/usr/bin:/bin --setenv LD_LIBRARY_PATH "$LD_LIBRARY_PATH" -- "$hd/ergon-hello"
echo "exit $?"
echo "== the same in the allow-list view ergon gives candidates (sandbox::CandidateSystemView, /sys, LD_LIBRARY_PATH)"
libs=(); IFS=: read -ra lds <<< "${LD_LIBRARY_PATH:-}"; for d in "${lds[@]}"; do [ -d "$d" ] && libs+=(--ro-bind "$d" "$d"); done
bwrap --unshare-all --die-with-parent --new-session --cap-drop ALL --unshare-user --uid 65534 --gid 65534 \
  --ro-bind /usr/bin /usr/bin --ro-bind /usr/lib /usr/lib --ro-bind /usr/lib64 /usr/lib64 --symlink usr/lib /lib \
  --symlink usr/lib64 /lib64 --symlink usr/bin /bin --ro-bind /etc/ld.so.cache /etc/ld.so.cache \
  --dev /dev --proc /proc --tmpfs /tmp --ro-bind /sys /sys "${devs[@]}" "${libs[@]}" --bind "$hd" "$hd" --chdir "$hd" \
  --clearenv --setenv PATH /usr/local/bin:/usr/bin:/bin --setenv LD_LIBRARY_PATH "${LD_LIBRARY_PATH:-}" -- "$hd/ergon-hello"
echo "exit $?"

for cu in evaluators/*/*.cu; do
  task=$(basename "$(dirname "$cu")")
  # A learner shared by a task's tiers (fashion_mnist) runs on its medium tier.
  [ -f "evaluators/$task/task.json" ] || task=${task}_medium
  echo "== $cu: nvml meter, 5 instances (dev suite)"
  json=$(timeout 240 "$ergon" eval --task "$task" "$cu" --meter nvml --instances 5 --timeout 60 --json)
  echo "exit $?"
  echo "$json" > "$out/nvml-$task.json"
  echo "$json" | python3 tests/device/summarise_nvml.py || echo "(could not summarise: see $out/nvml-$task.json)"
  echo "== $cu: wall meter, 3 instances (GPU time without the meter's edges)"
  timeout 120 "$ergon" eval --task "$task" "$cu" --meter wall --instances 3 --timeout 60
  echo "== $task: the CPU baseline, wall meter, 3 instances (reference accuracy)"
  timeout 60 "$ergon" eval --task "$task" --meter wall --instances 3
done

echo "== test cases that need the GPU"
timeout 200 "$learning_test" -tc="nvml*,the CUDA baseline*,every CUDA*" 2>&1 | tail -40
timeout 200 "$char_lm_test" -tc="the CUDA baseline*" 2>&1 | tail -20
timeout 200 "$fashion_mnist_test" -tc="the CUDA baseline*" 2>&1 | tail -20
echo "== done $(date -u +%FT%TZ)"
