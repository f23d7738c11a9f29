#!/usr/bin/env python3
"""Average cost per invocation of colod's BPF programs beside bcc's
libbpf-tools runqlat, both attached at the same time to the same
context-switch-heavy load (kernel.bpf_stats_enabled: run_time_ns/run_cnt).

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


def main():
    os.makedirs(OUT, exist_ok=True)
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        old_stats = f.read().strip()
    before = set(progs())
    procs = []
    try:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        procs.append(subprocess.Popen(["runqlat", str(SECONDS + 30), "1"],
                                      stdout=subprocess.DEVNULL))
        procs.append(subprocess.Popen([COLOD, "stats", "--duration", str(SECONDS + 30),
                                       "--pin-dir", "/nonexistent"],
                                      stdout=subprocess.DEVNULL))
        # wait until both tools have loaded (verification is slow on a busy box)
        for _ in range(60):
            ours = {k: v for k, v in progs().items() if k not in before}
            names = {k[1] for k in ours}
            if {"colod_sched_switch", "sched_switch"} <= names:
                break
            time.sleep(0.5)
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
        owner = "colod" if key[1].startswith("colod_") else "runqlat"
        rows[f"{owner}:{key[1]}"] = {"runs": dc, "ns_per_run": round(dt / dc, 1) if dc else None}
    colod_sw = rows.get("colod:colod_sched_switch", {}).get("ns_per_run")
    rq_sw = rows.get("runqlat:sched_switch", {}).get("ns_per_run")
    result = {
        "command": "sudo python3 scripts/bench/bpf_cost.py build/colod build/bench",
        "load": f"stress-ng --switch 2 --timeout {SECONDS}s",
        "programs": rows,
        "switch_ratio_colod_to_runqlat": round(colod_sw / rq_sw, 3) if colod_sw and rq_sw else None,
    }
    with open(os.path.join(OUT, "bpf_cost.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(f"{'program':40} {'runs':>10} {'ns/run':>8}")
    for k, v in sorted(rows.items()):
        print(f"{k:40} {v['runs']:>10} {v['ns_per_run']!s:>8}")
    print(f"sched_switch colod/runqlat: {result['switch_ratio_colod_to_runqlat']}")


if __name__ == "__main__":
    main()
