#!/bin/bash
# make demo: LS nginx + BE ffmpeg on this node, alone, without colod, with
# colod; prints a table, writes build/demo/results.json and latency.png.
# The work is in scripts/demo/demo.py (timing on CLOCK_MONOTONIC, JSON,
# cleanup on every exit path); this wrapper only checks the basics.
# Usage: scripts/demo.sh [--rounds N] [--phase-seconds N] [--skip-colod] [--help]
set -euo pipefail

cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: must run as root (it creates cgroups and loads BPF)" >&2
	exit 1
fi
if ! command -v python3 >/dev/null; then
	echo "demo: python3 missing; run ./scripts/install-deps.sh" >&2
	exit 1
fi
exec python3 scripts/demo/demo.py "$@"
