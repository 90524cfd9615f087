#!/usr/bin/env bash
# GPU checks for a machine with an NVIDIA GPU, in one go, within 5 minutes.
# Run from the repository root after building (the device machine has no
# network: carry build/ with it):
#   bash tests/device/run.sh [OUTDIR]
# Prints (and writes to OUTDIR/device-report.txt): the GPU, the energy
# counter's update period, the idle power, and the CUDA baseline learner's
# energy on 3 instances with its coefficient of variation; then the nvml and
# CUDA test cases.
set -uo pipefail
out=${1:-${OUT:-/tmp}}
mkdir -p "$out"
report="$out/device-report.txt"
ergon=${ERGON:-build/ergon}
exec > >(tee "$report") 2>&1

echo "== device check $(date -u +%FT%TZ)"
nvidia-smi --query-gpu=name,driver_version,power.draw,clocks.sm,clocks.mem --format=csv || echo "nvidia-smi failed"
"$ergon" doctor

echo "== CUDA baseline, nvml meter, 3 instances (dev suite)"
json=$(timeout 240 "$ergon" eval --task sparse_parity evaluators/sparse_parity/baseline.cu --meter nvml \
       --instances 3 --timeout 60 --json)
rc=$?
echo "$json" > "$out/nvml-eval.json"
echo "exit $rc"
echo "$json" | python3 -c '
import json, statistics, sys
r = json.load(sys.stdin)
print("status", r["status"], "accuracy", r["accuracy"])
per = r.get("per_instance", [])
e = [p["energy_j"] for p in per]
sub = [p["idle_subtracted_j"] for p in per]
for i, p in enumerate(per):
    print(f"instance {i+1}: total {p[\"energy_j\"]:.3f} J, idle-subtracted {p[\"idle_subtracted_j\"]:.3f} J, "
          f"idle {p[\"idle_w\"]:.1f} W, counter period {p[\"update_period_s\"]*1e3:.1f} ms, wall {p[\"wall_s\"]:.2f} s, "
          f"host cpu {p[\"cpu_s\"]:.2f} s")
if len(e) > 1:
    print(f"energy mean {statistics.mean(e):.3f} J, CV {statistics.stdev(e)/statistics.mean(e):.3%}; "
          f"idle-subtracted mean {statistics.mean(sub):.3f} J, CV {statistics.stdev(sub)/abs(statistics.mean(sub)):.3%}")
' || echo "(could not summarise: see $out/nvml-eval.json)"

echo "== CPU reference on the same suite (wall meter), for accuracy"
timeout 60 "$ergon" eval --task sparse_parity --meter wall --instances 3

echo "== test cases that need the GPU"
timeout 120 build/tests/learning_test -tc="nvml*,the CUDA baseline*" -s | tail -20
echo "== done"
