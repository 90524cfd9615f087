"""linear_regression harness, step 1: make one instance.

Usage: python3 prepare.py SEED VISIBLE HIDDEN
Writes the candidate's inputs (train.txt, test.txt) into VISIBLE and the test
targets, which only score.py may read, into HIDDEN/answers.txt.
"""
import json
import os
import random
import sys


def main():
    seed, visible, hidden = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "task.json")) as f:
        params = json.load(f)["params"]
    d, n, m = int(params["features"]), int(params["train_rows"]), int(params["test_rows"])
    noise = float(params["noise"])
    rng = random.Random(seed)
    w = [rng.gauss(0.0, 1.0) for _ in range(d)]
    bias = rng.gauss(0.0, 1.0)

    def row():
        x = [rng.uniform(-1.0, 1.0) for _ in range(d)]
        y = sum(wi * xi for wi, xi in zip(w, x)) + bias + rng.gauss(0.0, noise)
        return x, y

    with open(os.path.join(visible, "train.txt"), "w") as f:
        f.write(f"{d} {n}\n")
        for _ in range(n):
            x, y = row()
            f.write(" ".join(f"{v:.6f}" for v in x) + f" {y:.6f}\n")
    answers = []
    with open(os.path.join(visible, "test.txt"), "w") as f:
        f.write(f"{d} {m}\n")
        for _ in range(m):
            x, y = row()
            answers.append(y)
            f.write(" ".join(f"{v:.6f}" for v in x) + "\n")
    with open(os.path.join(hidden, "answers.txt"), "w") as f:
        f.write("\n".join(f"{y:.9f}" for y in answers) + "\n")


if __name__ == "__main__":
    main()
