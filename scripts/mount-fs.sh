#!/bin/sh
# Mount what colod needs and a fresh host may lack: bpffs for the pinned
# maps, tracefs for debugging. Idempotent.
set -eu
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
