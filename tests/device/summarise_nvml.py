"""Summarises `ergon eval --meter nvml --json` for tests/device/run.sh."""
import json
import statistics
import sys

r = json.load(sys.stdin)
print("status", r["status"], "stage", r.get("stage"), "accuracy", r.get("accuracy"),
      "compile_s", r.get("compile_s"))
if r["status"] != "ok":
    print("feedback:", r.get("feedback", "")[:2000])
per = r.get("per_instance", [])
for i, p in enumerate(per):
    print(f"instance {i + 1}: total {p['energy_j']:.3f} J, idle-subtracted {p['idle_subtracted_j']:.3f} J, "
          f"idle {p['idle_w']:.1f} W, counter period {p['update_period_s'] * 1e3:.1f} ms, "
          f"window {p.get('window_s', 0):.2f} s (slack {p.get('slack_s', 0) * 1e3:.0f} ms), wall {p['wall_s']:.2f} s, host cpu {p['cpu_s']:.2f} s, accuracy {p['accuracy']:.4f}")
e = [p["energy_j"] for p in per]
sub = [p["idle_subtracted_j"] for p in per]
if len(e) > 1:
    print(f"energy mean {statistics.mean(e):.3f} J, CV {statistics.stdev(e) / statistics.mean(e):.3%}; "
          f"idle-subtracted mean {statistics.mean(sub):.3f} J, "
          f"CV {statistics.stdev(sub) / abs(statistics.mean(sub)):.3%}")
