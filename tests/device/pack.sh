#!/usr/bin/env bash
# Packs what tests/device/run.sh needs on a GPU machine that has none of
# ergon's Debian libraries: the ergon binary, the sandbox shim, the learning
# test suite, bubblewrap, and the shared libraries they link (glibc and the
# C++ runtime excepted: the GPU machine's own are newer). Writes .devkit/
# (git-ignored, a few MB), which the device tool carries:
#   bash tests/device/pack.sh && <device run> bash tests/device/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
cmake --build "$build" -j "$(nproc)" --target ergon ergon-sandbox-init learning_test char_lm_test fashion_mnist_test >/dev/null
rm -rf .devkit
mkdir -p .devkit/bin .devkit/lib
bins=("$build/ergon" "$build/ergon-sandbox-init" "$build/tests/learning_test" "$build/tests/char_lm_test" "$build/tests/fashion_mnist_test"
      "$(command -v bwrap)")
for b in "${bins[@]}"; do
  strip -o ".devkit/bin/$(basename "$b")" "$b"
done
for b in "${bins[@]}"; do
  ldd "$b" | awk '/=> \// {print $3}'
done | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so.*|libm.so.*|libstdc++.so.*|libgcc_s.so.*|ld-linux*|libpthread.so.*|libdl.so.*|librt.so.*) ;;
    *) cp -L "$lib" .devkit/lib/ ;;
  esac
done
# char_lm's corpus (Debian's fortunes package, 2.8 MB): the GPU image lacks it.
cp -r /usr/share/games/fortunes .devkit/fortunes
# fashion_mnist's data set (Debian's dataset-fashion-mnist, 30 MB gzipped).
cp -r /usr/share/datasets/fashion-mnist .devkit/fashion-mnist
du -sh .devkit
