#!/usr/bin/python3
"""The Kubernetes manifests in deploy/: they parse (python3-yaml), they fit
together (names, namespaces, ports, RBAC), and the DaemonSet mounts every
host path the binary opens.

"Every host path the binary opens" is taken from the sources, not from a
list kept by hand: every absolute path literal under /sys, /var, /etc or
/proc in user/ and include/ must be reachable in the pod (a hostPath or
ConfigMap mount, the service account mount, or /proc of the host PID
namespace). A new path in the code without a mount fails this test.

With COLOD_BIN set, the ConfigMap's keys are also written out as the
directory the pod would see and checked by `colod check-config`.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
    return cond


def load(name):
    with open(os.path.join(DEPLOY, name)) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    for d in docs:
        check("apiVersion" in d and "kind" in d, "%s: document without apiVersion/kind" % name)
    return docs


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def source_paths():
    """Absolute host paths that appear as string literals in the agent."""
    paths = set()
    lit = re.compile(r'"(/(?:sys|var|etc|proc|run)/[^"%\s]*)"')
    for fn in glob.glob(os.path.join(ROOT, "user", "**", "*.[ch]"), recursive=True) + \
            glob.glob(os.path.join(ROOT, "include", "colod", "*.h")):
        with open(fn) as f:
            for line in f:
                s = line.strip()
                if s.startswith(("*", "/*", "//")):
                    continue
                for m in lit.finditer(line):
                    paths.add(m.group(1).rstrip("/"))
    return paths


def under(path, mount):
    return path == mount or path.startswith(mount.rstrip("/") + "/")


def main():
    manifests = {}
    for fn in sorted(glob.glob(os.path.join(DEPLOY, "*.yaml"))):
        name = os.path.basename(fn)
        if name == "no-resctrl-patch.yaml":
            continue
        manifests[name] = load(name)
    alld = [d for docs in manifests.values() for d in docs]

    # kustomization lists files that exist
    kz = manifests.get("kustomization.yaml", [{}])[0]
    for r in kz.get("resources", []):
        check(os.path.exists(os.path.join(DEPLOY, r)), "kustomization: missing resource %s" % r)

    ds_list = by_kind(alld, "DaemonSet")
    if not check(len(ds_list) == 1, "want exactly one DaemonSet, found %d" % len(ds_list)):
        return
    ds = ds_list[0]
    ns = ds["metadata"].get("namespace")
    spec = ds["spec"]["template"]["spec"]
    check(spec.get("hostPID") is True, "DaemonSet: hostPID must be true")
    check(ds["spec"]["selector"]["matchLabels"].items() <=
          ds["spec"]["template"]["metadata"]["labels"].items(),
          "DaemonSet: selector does not match the template labels")
    ctr = spec["containers"][0]
    args = ctr.get("args", [])
    flags = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)

    # NODE_NAME from the downward API
    env = {e["name"]: e for e in ctr.get("env", [])}
    check(env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
          == "spec.nodeName", "NODE_NAME must come from fieldRef spec.nodeName")

    # metrics address, port and probes agree
    addr = flags.get("metrics-addr", "")
    check(addr.endswith(":9317") and not addr.startswith("127."),
          "--metrics-addr %r must listen beyond loopback on 9317 for the probes" % addr)
    ports = {p["name"]: p["containerPort"] for p in ctr.get("ports", [])}
    port = int(addr.rsplit(":", 1)[1]) if ":" in addr else None
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        p = ctr.get(probe, {}).get("httpGet", {})
        check(p.get("path") == path, "%s must GET %s" % (probe, path))
        pp = p.get("port")
        check(ports.get(pp, pp) == port, "%s port %r is not the metrics port %r" % (probe, pp, port))

    # resources, sized from docs/BENCHMARKS.md (footprint): a CPU request
    # and no CPU limit (CFS throttling would stall the control loop in the
    # very bursts when it must act); memory requested above the measured
    # peak (docs/BENCHMARKS.md "Scale": 2,000 cgroups, /metrics scraped,
    # VmHWM 22.5 MiB plus 8.1 MiB of kernel memory) and limited
    res = ctr.get("resources", {})
    req, lim = res.get("requests", {}), res.get("limits", {})
    check("cpu" in req, "resources: a cpu request")
    check("cpu" not in lim, "resources: no cpu limit (it throttles the control loop)")
    check("memory" in req and "memory" in lim, "resources: memory request and limit")
    mib = {"Ki": 1.0 / 1024, "Mi": 1, "Gi": 1024}
    def to_mib(q):
        m = re.match(r"^([0-9]+)(Ki|Mi|Gi)$", str(q))
        return int(m.group(1)) * mib[m.group(2)] if m else None
    rq, lm = to_mib(req.get("memory")), to_mib(lim.get("memory"))
    if check(rq is not None and lm is not None,
             "resources: memory as <n>Ki|Mi|Gi: %r, %r" % (req.get("memory"), lim.get("memory"))):
        check(rq >= 61, "resources: memory request %s under twice the measured peak" % req["memory"])
        check(rq <= lm, "resources: memory request above the limit")

    # capabilities: the minimal set, no blanket privilege
    sc = ctr.get("securityContext", {})
    caps = set(sc.get("capabilities", {}).get("add", []))
    check(sc.get("privileged") is not True, "container should not be privileged")
    check({"BPF", "PERFMON"} <= caps, "capabilities must add BPF and PERFMON, have %s" % caps)
    check("ALL" in sc.get("capabilities", {}).get("drop", []), "capabilities must drop ALL")

    # mounts
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {}
    for m in ctr.get("volumeMounts", []):
        check(m["name"] in vols, "volumeMount %s has no volume" % m["name"])
        mounts[m["mountPath"]] = vols.get(m["name"], {})
    for path, v in mounts.items():
        hp = v.get("hostPath")
        if hp:
            check(hp["path"] == path, "hostPath %s mounted at %s: the binary uses host paths"
                  % (hp["path"], path))
    cm_names = {d["metadata"]["name"] for d in by_kind(alld, "ConfigMap")
                if d["metadata"].get("namespace") == ns}
    config_dir = flags.get("config")
    cfg_vol = mounts.get(config_dir, {})
    check("configMap" in cfg_vol, "--config %s is not a ConfigMap mount" % config_dir)
    check(cfg_vol.get("configMap", {}).get("name") in cm_names,
          "ConfigMap %r is not defined in namespace %s"
          % (cfg_vol.get("configMap", {}).get("name"), ns))
    for flag in ("state-dir", "pin-dir", "cgroup-root"):
        d = flags.get(flag)
        check(d and any(under(d, mp) for mp in mounts),
              "--%s %s is not under any mount" % (flag, d))

    needed = source_paths()
    check(len(needed) >= 5, "found too few paths in the sources: %s" % sorted(needed))
    sa_ok = spec.get("automountServiceAccountToken", True) and spec.get("serviceAccountName")
    for p in sorted(needed):
        if p.startswith("/proc"):
            # procfs is mounted by the runtime; hostPID makes it the host's
            check(spec.get("hostPID") is True, "%s needs hostPID" % p)
        elif under(p, "/var/run/secrets/kubernetes.io/serviceaccount"):
            check(sa_ok, "%s needs the service account token mounted" % p)
        else:
            check(any(under(p, mp) for mp in mounts),
                  "the binary opens %s but the DaemonSet does not mount it" % p)
    for must in ("/sys/fs/cgroup", "/sys/fs/bpf", "/sys/fs/resctrl", "/sys/kernel/btf",
                 flags.get("state-dir", "/var/lib/colod")):
        check(must in mounts, "no mount for %s" % must)

    # RBAC: the service account exists and may patch its node's status
    sa = spec.get("serviceAccountName")
    check(any(d["metadata"]["name"] == sa and d["metadata"].get("namespace") == ns
              for d in by_kind(alld, "ServiceAccount")), "ServiceAccount %s not defined" % sa)
    roles = {d["metadata"]["name"]: d for d in by_kind(alld, "ClusterRole")}
    granted = set()
    for b in by_kind(alld, "ClusterRoleBinding"):
        if any(s.get("kind") == "ServiceAccount" and s.get("name") == sa and
               s.get("namespace") == ns for s in b.get("subjects", [])):
            for r in roles.get(b["roleRef"]["name"], {}).get("rules", []):
                for res_ in r.get("resources", []):
                    for verb in r.get("verbs", []):
                        granted.add((res_, verb))
    check(("nodes/status", "patch") in granted, "RBAC: %s may not patch nodes/status" % sa)
    # only what the code does (k8s.c: PATCH nodes/{name}/status, and with
    # --pod-source the kubelet's GET /pods as nodes/proxy or nodes/pods):
    # no reads of Nodes nobody makes, no other verb on them
    node_grants = {(r, v) for r, v in granted if r.split("/")[0] == "nodes"}
    want = {("nodes/status", "patch")}
    if flags.get("pod-source") is not None:
        want |= {("nodes/proxy", "get"), ("nodes/pods", "get")}
    check(node_grants == want,
          "RBAC: on nodes only %s, have %s" % (sorted(want), sorted(node_grants)))
    check(not any(v in ("*",) or r == "*" for r, v in granted), "RBAC: no wildcards")

    # the pod source: the kubelet on this node's address, allowed to GET /pods
    src = flags.get("pod-source")
    if src is not None:
        check(src == "https://$(NODE_IP):10250/pods",
              "--pod-source %r is not the kubelet's https://$(NODE_IP):10250/pods" % src)
        check(env.get("NODE_IP", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
              == "status.hostIP", "NODE_IP must come from fieldRef status.hostIP")
        check(("nodes/proxy", "get") in granted and ("nodes/pods", "get") in granted,
              "RBAC: %s may not GET the kubelet's /pods (nodes/proxy, nodes/pods)" % sa)
        check(not any(r in ("nodes/proxy", "nodes/pods") and v != "get" for r, v in granted),
              "RBAC: the kubelet's endpoints are read only (get)")

    # the no-resctrl patch removes exactly the resctrl mount and volume
    with open(os.path.join(DEPLOY, "no-resctrl-patch.yaml")) as f:
        patch = yaml.safe_load(f)
    for op in patch:
        idx = int(op["path"].rsplit("/", 1)[1])
        if op["path"].endswith("/volumeMounts/%d" % idx):
            check(ctr["volumeMounts"][idx]["mountPath"] == "/sys/fs/resctrl",
                  "no-resctrl-patch removes volumeMount %d, not resctrl" % idx)
        else:
            check(spec["volumes"][idx]["name"] == "resctrl",
                  "no-resctrl-patch removes volume %d, not resctrl" % idx)

    # the ConfigMap's keys, as the pod sees them, pass `colod check-config`
    colod = os.environ.get("COLOD_BIN")
    cm = [d for d in by_kind(alld, "ConfigMap")
          if d["metadata"]["name"] == cfg_vol.get("configMap", {}).get("name")][0]
    for k in cm["data"]:
        check(k in ("colocation-config", "resource-qos-config",
                    "resource-threshold-config", "colod-config"),
              "ConfigMap key %s is not one colod reads" % k)
    if colod and os.access(colod, os.X_OK):
        with tempfile.TemporaryDirectory(prefix="colod-test-cm-") as d:
            for k, v in cm["data"].items():
                with open(os.path.join(d, k), "w") as f:
                    f.write(v)
            r = subprocess.run([colod, "check-config", d], capture_output=True, text=True)
            check(r.returncode == 0, "colod check-config on the ConfigMap failed: %s%s"
                  % (r.stdout, r.stderr))
    else:
        print("check_manifests: COLOD_BIN not set: ConfigMap not run through check-config")

    print("check_manifests: %d documents, host paths from the sources: %s"
          % (len(alld), " ".join(sorted(needed))))


main()
if failures:
    for f in failures:
        print("check_manifests: FAIL: " + f, file=sys.stderr)
    sys.exit(1)
print("check_manifests: ok")
