"""linear_regression harness, step 2: score one instance.

Usage: python3 score.py WORKDIR HIDDEN
Reads the candidate's WORKDIR/predictions.txt and HIDDEN/answers.txt and
prints one JSON object of metrics. A missing or malformed predictions file is
the candidate's failure, scored as r2 = -1 (it fails the gate), not an error
of this harness.
"""
import json
import math
import os
import sys


def main():
    workdir, hidden = sys.argv[1], sys.argv[2]
    with open(os.path.join(hidden, "answers.txt")) as f:
        answers = [float(line) for line in f if line.strip()]
    preds = []
    valid = 1
    try:
        with open(os.path.join(workdir, "predictions.txt")) as f:
            for line in f:
                if line.strip():
                    preds.append(float(line))
    except (OSError, ValueError):
        valid = 0
    if len(preds) != len(answers) or not all(math.isfinite(p) for p in preds):
        valid = 0
    if not valid:
        print(json.dumps({"r2": -1.0, "mse": 1e9, "valid": 0}))
        return
    mean = sum(answers) / len(answers)
    ss_tot = sum((y - mean) ** 2 for y in answers)
    ss_res = sum((y - p) ** 2 for y, p in zip(answers, preds))
    r2 = max(-1.0, 1.0 - ss_res / ss_tot)
    print(json.dumps({"r2": r2, "mse": ss_res / len(answers), "valid": 1}))


if __name__ == "__main__":
    main()
