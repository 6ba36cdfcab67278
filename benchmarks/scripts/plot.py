#!/usr/bin/env python3
"""PNG plots for the README (matplotlib, pinned in benchmarks/requirements.txt):
  --latest results/latest.json --throughput-png results/throughput.png
        CPU seconds per million items of every throughput benchmark (median bar, min-max whisker):
        the figure that stays comparable on a loaded machine, one bar per benchmark path;
  --soak results/soak.json --soak-png results/soak-rss.png
        the agent's RSS over the soak, with the warm-up line and the +-10 % band around the
        post-warm-up median.
"""
import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# (benchmark, figure, label) of the throughput figures, all "CPU seconds per million items".
THROUGHPUT = [
    ("encode", "logs.encode.model.cpu_s_per_M_records", "logs: OTLP encode (model)"),
    ("encode", "logs.encode.writer.cpu_s_per_M_records", "logs: OTLP encode (ProtoWriter)"),
    ("encode", "spans.encode.model.cpu_s_per_M_spans", "spans: OTLP encode (model)"),
    ("encode", "logs.encode_gzip6.cpu_s_per_M_records", "logs: encode + gzip -6"),
    ("prometheus", "parse.cpu_s_per_M_samples", "prometheus: parse"),
    ("prometheus", "parse_convert_encode.cpu_s_per_M_samples", "prometheus: parse+convert+encode"),
    ("prometheus", "scrape.cpu_s_per_M_series", "prometheus: scrape end to end"),
    ("filelog", "cpu_s_per_M_lines", "log path: file → sink (gzip)"),
    ("span-path", "spans100.cpu_s_per_M_spans", "span path: 100 spans/request"),
    ("span-path", "spans1.cpu_s_per_M_spans", "span path: 1 span/request"),
]


def throughput(latest_path, png):
    latest = json.load(open(latest_path))
    rows = []
    for bench, fig, label in THROUGHPUT:
        f = latest["benchmarks"].get(bench, {}).get("figures", {}).get(fig)
        if f and f["median"] is not None:
            rows.append((label, f["median"], f["min"], f["max"]))
    if not rows:
        print(f"plot: no throughput figures in {latest_path}")
        return
    rows.reverse()
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.6), dpi=110)
    labels = [r[0] for r in rows]
    med = [r[1] for r in rows]
    err = [[r[1] - r[2] for r in rows], [r[3] - r[1] for r in rows]]
    ax.barh(labels, med, xerr=err, color="#4c72b0", ecolor="#333", capsize=3)
    ax.set_xscale("log")
    for y, (v, hi) in enumerate(zip(med, (r[3] for r in rows))):
        ax.text(hi * 1.12, y, f"{v:.3g}", va="center", fontsize=9)
    ax.set_xlabel("CPU seconds per million items (log scale; lower is better; median, min–max)")
    m = latest["machine"]
    ax.set_title(f"fluxtel throughput — {latest['date'][:10]}, commit {m.get('git_commit')}\n"
                 f"{m.get('cpus')} shared CPUs, load average at the end {m.get('loadavg_at_end')}", fontsize=9)
    ax.set_xlim(right=max(r[3] for r in rows) * 4)
    fig.tight_layout()
    fig.savefig(png)
    print(f"plot: wrote {png}")


def soak(soak_path, png):
    s = json.load(open(soak_path))
    series = s["rss_series"]
    t = [p[0] / 60 for p in series]
    rss = [p[1] / 1e6 for p in series]
    fig, ax = plt.subplots(figsize=(9, 4), dpi=110)
    ax.plot(t, rss, color="#4c72b0", lw=1, label="agent RSS")
    if series and len(series[0]) >= 5:  # soaks since session 3 also record RSS's two parts
        ax.plot(t, [p[3] / 1e6 for p in series], color="#dd8452", lw=1, label="anonymous (heap, stacks)")
        ax.plot(t, [p[4] / 1e6 for p in series], color="#8172b3", lw=1, label="file-backed (binary, libraries)")
    if "rss_after_warmup_median_first_2min" in s:
        base = s["rss_after_warmup_median_first_2min"] / 1e6
        ax.axvline(s["warmup_seconds"] / 60, color="#999", ls="--", lw=1, label="end of warm-up")
        ax.axhspan(base * 0.9, base * 1.1, color="#55a868", alpha=0.15, label="±10 % of post-warm-up median")
    ax.set_ylim(bottom=0, top=max(rss) * 1.3)
    ax.set_xlabel("minutes")
    ax.set_ylabel("RSS (MB)")
    verdict = "flat" if s.get("rss_flat_within_10pct") else "NOT flat"
    ax.set_title(f"soak {s['date'][:10]}: {s['scale']}x Flux workload, sink failing {s['fail_ratio']:.0%} — RSS {verdict}; "
                 f"lost logs {s['log_lines_lost']}, lost spans {s['spans_lost']}", fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png)
    print(f"plot: wrote {png}")


ap = argparse.ArgumentParser()
ap.add_argument("--latest")
ap.add_argument("--throughput-png")
ap.add_argument("--soak")
ap.add_argument("--soak-png")
a = ap.parse_args()
if a.latest:
    throughput(a.latest, a.throughput_png)
if a.soak:
    soak(a.soak, a.soak_png)
