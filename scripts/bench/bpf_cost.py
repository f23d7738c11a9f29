#!/usr/bin/env python3
"""Average cost per invocation of colod's BPF programs beside bcc's
libbpf-tools runqlat, all attached at the same time to the same
context-switch-heavy load (kernel.bpf_stats_enabled: run_time_ns/run_cnt):
colod as it loads on this kernel, and a second colod forced onto the
fallbacks of kernels before 5.12 (COLOD_FORCE_FALLBACK=task_storage,atomics:
wake-up stamps in a pid-keyed hash map, no cmpxchg), as it runs on 5.10.

Reproduce: sudo python3 scripts/bench/bpf_cost.py build/colod build/bench
"""
import json
import os
import subprocess
import sys
import time

COLOD, OUT = sys.argv[1], sys.argv[2]
SECONDS = 10


def progs():
    out = subprocess.run(["bpftool", "prog", "show", "-j"], check=True,
                         capture_output=True, text=True).stdout
    return {(p["id"], p.get("name", "")): p for p in json.loads(out)}


def start_colod(procs, env=None):
    procs.append(subprocess.Popen([COLOD, "stats", "--duration", str(SECONDS + 60),
                                   "--pin-dir", "/nonexistent"],
                                  stdout=subprocess.DEVNULL, env=env))


def wait_new(before, names):
    """The programs loaded since before, once names are among them."""
    for _ in range(120):
        new = {k: v for k, v in progs().items() if k not in before}
        if names <= {k[1] for k in new}:
            return new
        time.sleep(0.5)
    sys.exit(f"bpf_cost: {names} not loaded within 60 s")


def main():
    os.makedirs(OUT, exist_ok=True)
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        old_stats = f.read().strip()
    before = set(progs())
    procs = []
    owner = {}
    try:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        procs.append(subprocess.Popen(["runqlat", str(SECONDS + 60), "1"],
                                      stdout=subprocess.DEVNULL))
        start_colod(procs)
        # one at a time, so that each colod's programs are told apart by id
        # (verification is slow on a busy box)
        ours = wait_new(before, {"colod_sched_switch", "sched_switch"})
        for k in ours:
            owner[k] = "colod" if k[1].startswith("colod_") else "runqlat"
        start_colod(procs, dict(os.environ, COLOD_FORCE_FALLBACK="task_storage,atomics"))
        fb = wait_new(before | set(ours), {"colod_sched_switch_plain"})
        for k in fb:
            owner[k] = "colod_fallback"
        ours.update(fb)
        base = {k: (v.get("run_time_ns", 0), v.get("run_cnt", 0)) for k, v in ours.items()}
        # the load: stress-ng's switch stressor ping-pongs tasks through pipes
        subprocess.run(["stress-ng", "--switch", "2", "--timeout", f"{SECONDS}s",
                        "--quiet"], check=True)
        after = progs()
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(old_stats)

    rows = {}
    for key, (t0, c0) in base.items():
        p = after.get(key)
        if not p:
            continue
        dt, dc = p.get("run_time_ns", 0) - t0, p.get("run_cnt", 0) - c0
        rows[f"{owner[key]}:{key[1]}"] = {"runs": dc,
                                          "ns_per_run": round(dt / dc, 1) if dc else None}

    def ns(row):
        return rows.get(row, {}).get("ns_per_run")

    def ratio(a, b):
        return round(ns(a) / ns(b), 3) if ns(a) and ns(b) else None

    result = {
        "command": "sudo python3 scripts/bench/bpf_cost.py build/colod build/bench",
        "load": f"stress-ng --switch 2 --timeout {SECONDS}s",
        "programs": rows,
        "switch_ratio_colod_to_runqlat": ratio("colod:colod_sched_switch",
                                               "runqlat:sched_switch"),
        "switch_ratio_fallback_to_runqlat": ratio("colod_fallback:colod_sched_switch_plain",
                                                  "runqlat:sched_switch"),
        "wakeup_ratio_fallback_to_runqlat": ratio("colod_fallback:colod_sched_wakeup",
                                                  "runqlat:sched_wakeup"),
        "switch_ratio_fallback_to_colod": ratio("colod_fallback:colod_sched_switch_plain",
                                                "colod:colod_sched_switch"),
    }
    with open(os.path.join(OUT, "bpf_cost.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(f"{'program':40} {'runs':>10} {'ns/run':>8}")
    for k, v in sorted(rows.items()):
        print(f"{k:40} {v['runs']:>10} {v['ns_per_run']!s:>8}")
    print(f"sched_switch colod/runqlat: {result['switch_ratio_colod_to_runqlat']}")
    print(f"sched_switch colod fallback (pid hash, no cmpxchg)/runqlat: "
          f"{result['switch_ratio_fallback_to_runqlat']}, "
          f"sched_wakeup: {result['wakeup_ratio_fallback_to_runqlat']}, "
          f"fallback/colod: {result['switch_ratio_fallback_to_colod']}")


if __name__ == "__main__":
    main()
