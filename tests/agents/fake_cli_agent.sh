#!/bin/sh
# A stand-in for a coding-agent CLI (tests only): reads the prompt on stdin,
# checks it names the file to edit, and edits candidate.cpp in place, as
# `claude -p` or `codex exec` would.
prompt=$(cat)
case "$prompt" in
  *candidate.cpp*) ;;
  *) echo "no file named in the prompt" >&2; exit 1 ;;
esac
[ -f TASK.md ] || { echo "no TASK.md" >&2; exit 1; }
sed -i 's|// KNOB slots 16 range 14 20 int|// KNOB slots 15 range 14 20 int|; s|constexpr int kSlots = 16;|constexpr int kSlots = 15;|' candidate.cpp
echo "Use 15 slots instead of 16."
