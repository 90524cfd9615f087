#!/usr/bin/env python3
"""The lock contract, checked: clang's -Wthread-safety over every ergon
source, as errors, and proof that the check bites.

usage: check.py BUILD_DIR SOURCE_DIR

Every translation unit of the modules in BUILD_DIR/compile_commands.json is
parsed by clang++ (-fsyntax-only: no code is built) with only the
thread-safety warnings on, as errors. Then two small files beside this
script: guarded.cpp (reads a GUARDED_BY field holding its base::Mutex) must
pass, unguarded.cpp (the same read without the lock) must fail with clang's
"requires holding mutex". Exit 0 when all holds, 1 otherwise, 77 (skipped)
where no clang++ is installed.
"""
import json
import os
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

MODULES = ("base", "engine", "archive", "evaluators", "sandbox", "genome", "prompts")
FLAGS = ["-fsyntax-only", "-ferror-limit=0", "-Wno-everything", "-Wthread-safety", "-Werror=thread-safety",
         "-Werror=thread-safety-attributes"]


def clang_command(entry, clang):
    args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    out, skip = [clang], False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-c", "-MF", "-MT", "-MQ"):
            skip = a != "-c"
            continue
        if a.startswith("-W") or a in ("-MD", "-MMD") or a == entry["file"]:
            continue
        out.append(a)
    return out + FLAGS + [entry["file"]]


def main():
    build, source = sys.argv[1], os.path.realpath(sys.argv[2])
    clang = shutil.which("clang++")
    if not clang:
        print("SKIPPED: clang++ not installed (make deps installs it)")
        return 77
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    units = [e for e in entries
             if os.path.realpath(e["file"]).startswith(tuple(os.path.join(source, m) + "/" for m in MODULES))]
    if not units:
        print("no translation units found in compile_commands.json")
        return 1

    def check(e):
        r = subprocess.run(clang_command(e, clang), cwd=e["directory"], capture_output=True, text=True)
        return e["file"], r.returncode, r.stderr

    failed = 0
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for file, rc, err in pool.map(check, units):
            if rc != 0:
                failed += 1
                print(f"FAIL {os.path.relpath(file, source)}\n{err}")
    print(f"{len(units) - failed} of {len(units)} translation units pass clang -Wthread-safety")

    here = os.path.dirname(os.path.abspath(__file__))
    def probe(name):
        return subprocess.run([clang, "-std=c++20", "-I", source] + FLAGS + [os.path.join(here, name)],
                              capture_output=True, text=True)
    good, bad = probe("guarded.cpp"), probe("unguarded.cpp")
    bites = bad.returncode != 0 and "requires holding mutex" in bad.stderr
    print(f"guarded.cpp: {'passes' if good.returncode == 0 else 'FAILS: ' + good.stderr}")
    print(f"unguarded.cpp: {'refused, as it must be' if bites else 'NOT refused: the check does not bite'}")
    return 0 if failed == 0 and good.returncode == 0 and bites else 1


if __name__ == "__main__":
    sys.exit(main())
