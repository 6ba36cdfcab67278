#!/usr/bin/env python3
"""Aggregates per-run benchmark reports (RAW_DIR/NAME.*.json, one JSON report per line: several lines are
several samples) into latest.json and latest.md. With --baseline (a former latest.json, by default
results/baseline.json when it exists) every figure also gets its median's ratio to the baseline's."""
import argparse
import datetime
import glob
import json
import os
import platform
import statistics
import subprocess


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:
        return ""


def machine():
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "host": platform.node(),
        "os": f"{platform.system()} {platform.release()}",
        "arch": platform.machine(),
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "loadavg_at_end": " ".join(open("/proc/loadavg").read().split()[:3]) if os.path.exists("/proc/loadavg") else "",
        "swift": sh("swift --version 2>&1 | head -1"),
        "git_commit": sh("git rev-parse --short HEAD"),
        "git_dirty": bool(sh("git status --porcelain -- Sources benchmarks/Sources")),
    }


def fmt(v):
    if v is None:
        return "–"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.2f} M"
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.3f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("json_out")
    ap.add_argument("md_out")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--cpu")
    ap.add_argument("--command")
    ap.add_argument("--meta", nargs="*", default=[], help="KEY=VALUE pairs recorded under \"run\" (timings, knobs)")
    ap.add_argument("--baseline", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                       "results", "baseline.json"))
    a = ap.parse_args()
    baseline = json.load(open(a.baseline)) if a.baseline and os.path.exists(a.baseline) else None

    benches = {}
    reports = []
    for path in sorted(glob.glob(os.path.join(a.raw, "*.json"))):
        reports += [json.loads(line) for line in open(path) if line.strip()]
    for rep in reports:
        b = benches.setdefault(rep["benchmark"], {"figures": {}, "info": rep.get("info", {}), "runs": 0})
        b["runs"] += 1
        for f in rep["figures"]:
            e = b["figures"].setdefault(f["name"], {"unit": f["unit"], "better": f["better"], "values": []})
            if f["value"] is not None:
                e["values"].append(f["value"])

    out = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": a.command,
        "runs_per_benchmark": a.runs,
        "pinned_cpu": a.cpu,
        "machine": machine(),
        "run": dict(kv.split("=", 1) for kv in a.meta),
        "benchmarks": {},
    }
    for name, b in benches.items():
        figs = {}
        for fname, e in b["figures"].items():
            v = e["values"]
            figs[fname] = {
                "median": statistics.median(v) if v else None,
                "min": min(v) if v else None,
                "max": max(v) if v else None,
                "unit": e["unit"],
                "better": e["better"],
                "runs": len(v),
            }
            if baseline is not None:
                old = baseline["benchmarks"].get(name, {}).get("figures", {}).get(fname, {}).get("median")
                if old is not None and v:
                    new = statistics.median(v)
                    # A zero baseline (nothing lost) has no ratio: "same" when it is still zero.
                    figs[fname]["vs_baseline"] = new / old if old else (1.0 if new == 0 else None)
        out["benchmarks"][name] = {"runs": b["runs"], "info": b["info"], "figures": figs}
    with open(a.json_out, "w") as fh:
        json.dump(out, fh, indent=2)
        fh.write("\n")

    m = out["machine"]
    lines = [
        f"# fluxtel benchmarks — {out['date']}",
        "",
        f"`{a.command}` · {a.runs} runs per benchmark, pinned to CPU {a.cpu} · {m['cpu_model']} ({m['cpus']} CPUs) · "
        f"{m['swift']} · commit {m['git_commit']}{' (dirty)' if m['git_dirty'] else ''} · load {m['loadavg_at_end']}"
        + (f" · {out['run']['total_seconds']} s in all, builds {out['run']['build_seconds']} s" if 'total_seconds' in out['run'] else ""),
        "",
        (f"Baseline: {baseline['date']}, commit {baseline['machine'].get('git_commit')} (`benchmarks/results/baseline.json`); "
         "÷ baseline is this median over the baseline's (`benchmarks/compare` flags the figures more than 15 % worse)."
         if baseline else "No baseline (`cp benchmarks/results/latest.json benchmarks/results/baseline.json` makes one)."),
        "",
        "| benchmark | figure | median | min | max | unit | samples | ÷ baseline |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for name, b in out["benchmarks"].items():
        for fname, f in b["figures"].items():
            arrow = "↑" if f["better"] == "higher" else "↓"
            ratio = "new" if "vs_baseline" not in f else ("from 0" if f["vs_baseline"] is None else f"{f['vs_baseline']:.2f}")
            lines.append(f"| {name} | {fname} | {fmt(f['median'])} | {fmt(f['min'])} | {fmt(f['max'])} | {f['unit']} {arrow} | "
                         f"{f['runs']} | {ratio if baseline else '–'} |")
    lines += ["", "↑ higher is better, ↓ lower is better. Wall-clock figures on a shared machine are noisy; "
              "`cpu_s_per_M_*` (thread CPU time) and `time_vs_zlib` (CPU time ratio, same process) are the stable ones."]
    with open(a.md_out, "w") as fh:
        fh.write("\n".join(lines) + "\n")


main()
