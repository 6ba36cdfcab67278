#!/usr/bin/env python3
"""Prints the README's benchmark section tables from results/latest.json (and results/soak.json when
present): the headline figures next to issue 8's and the capability issues' targets, then every figure.
Usage: benchmarks/scripts/summary.py [--readme] [LATEST [SOAK]]
  --readme  replaces the text between <!-- bench-summary:start --> and <!-- bench-summary:end --> in
            README.md instead of printing."""
import contextlib
import io
import json
import os
import sys

readme = "--readme" in sys.argv
sys.argv = [a for a in sys.argv if a != "--readme"]
buffer = io.StringIO()
redirect = contextlib.redirect_stdout(buffer) if readme else contextlib.nullcontext()
redirect.__enter__()

here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
latest = json.load(open(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "results", "latest.json")))
soak_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "results", "soak.json")
soak = json.load(open(soak_path)) if os.path.exists(soak_path) else None
B = latest["benchmarks"]


def fig(bench, name):
    return B.get(bench, {}).get("figures", {}).get(name)


def num(v, scale=1.0, digits=3):
    if v is None:
        return "–"
    v = v / scale
    if abs(v) >= 1e6:
        return f"{v / 1e6:.{digits}g} M"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


# (label, benchmark, figure, scale, unit shown, target text, check(median) -> bool or None, use "max" column?)
MB = 1e6
HEADLINE = [
    ("binary size, stripped (static Swift stdlib)", "footprint", "binary.stripped_bytes", MB, "MB", "≤ 25 MB", lambda v: v <= 25 * MB),
    ("start → /readyz 200, wall", "footprint", "ready_ms", 1, "ms", "≤ 100 ms", lambda v: v <= 100),
    ("start → /readyz 200, agent CPU", "footprint", "ready_cpu_ms", 1, "ms CPU", "", None),
    ("idle RSS after 10 s, default Flux config", "footprint", "idle.rss", MB, "MB", "≤ 15 MB", lambda v: v <= 15 * MB),
    ("idle RSS: anonymous part (heap, stacks)", "footprint", "idle.rss_anon", MB, "MB", "", None),
    ("idle RSS: mapped-file part (the binary, libc, libstdc++, …)", "footprint", "idle.rss_file", MB, "MB", "", None),
    ("realistic workload, CPU per minute", "realistic", "cpu_pct_of_core_per_minute", 1, "% of a core", "≤ 1 %", lambda v: v <= 1),
    ("realistic workload, RSS max per minute", "realistic", "rss_max_per_minute", MB, "MB", "≤ 25 MB", lambda v: v <= 25 * MB),
    ("realistic workload, RSS median per minute", "realistic", "rss_median_per_minute", MB, "MB", "≤ 25 MB", lambda v: v <= 25 * MB),
    ("realistic workload, log lines lost", "realistic", "log_lines_lost", 1, "lines", "0", lambda v: v == 0),
    ("realistic workload, spans lost", "realistic", "spans_lost", 1, "spans", "0", lambda v: v == 0),
    ("log encode, model → OTLP, CPU s per M records", "encode", "logs.encode.model.cpu_s_per_M_records", 1, "CPU s", "≤ 0.5 (≥ 2 M/s)", lambda v: v <= 0.5),
    ("gzip -6 time ÷ zlib's own", "encode", "gzip.l6.time_vs_zlib", 1, "×", "≤ 1.10", lambda v: v <= 1.1),
    ("Prometheus parse, MB per CPU s", "prometheus", "parse.mb_per_cpu_s", 1, "MB/s", "≥ 150", lambda v: v >= 150),
    ("Prometheus scrape end to end, CPU per 2,162-series scrape", "prometheus", "scrape.cpu_ms_per_scrape", 1, "ms", "≤ 2 ms", lambda v: v <= 2),
    ("scrape, whole agent: CPU per 2,120-sample scrape every 1 s (fetch, parse, convert, batch, gzip 6, export)", "scrape", "cpu_ms_per_scrape", 1, "ms CPU", "≤ 2.3 ms", lambda v: v <= 2.3),
    ("scrape, whole agent: peak RSS while scraping", "scrape", "rss_peak", MB, "MB", "≤ 11.2 MB (10.7 MiB)", lambda v: v <= 10.7 * 1048576),
    ("idle RSS 65 s after ready (steady), default Flux config (issue 19: ≤ Fluent Bit's 10.2 MiB)", "footprint", "steady.rss", MB, "MB", "≤ 10.7 MB (10.2 MiB)", lambda v: v <= 10.2 * 1048576),
    ("single-span requests, 3,500/s from 2 keep-alive clients: agent CPU per request", "span-rate", "rate3k5.cpu_us_per_request", 1, "µs", "≤ 35 µs (0.4× FB)", lambda v: v <= 35),
    ("… the same load against a minimal epoll responder (this machine's floor: user + system)", "span-rate", "rate3k5.floor_cpu_us_per_request", 1, "µs", "", None),
    ("single-span requests, 9,000/s from `h2load --h1 -c 2`: agent CPU per request", "span-rate", "h2load9k.cpu_us_per_request", 1, "µs", "≤ 25 µs (0.4× FB)", lambda v: v <= 25),
    ("… the same load against a minimal epoll responder (floor)", "span-rate", "h2load9k.floor_cpu_us_per_request", 1, "µs", "", None),
    ("log path with `flux_fields: move`, CPU s per M lines (gzip 6)", "filelog-move", "cpu_s_per_M_lines", 1, "CPU s", "≤ 6.95 (0.25× FB)", lambda v: v <= 6.95),
    ("log path with `flux_fields: move`, wire bytes per line", "filelog-move", "wire_bytes_per_line", 1, "B", "≤ 63.4 (FB)", lambda v: v <= 63.4),
    ("log path, CPU s per M lines (gzip 6)", "filelog", "cpu_s_per_M_lines", 1, "CPU s", "≤ 5", lambda v: v <= 5),
    ("log path, wire bytes per line", "filelog", "wire_bytes_per_line", 1, "B", "≤ 68", lambda v: v <= 68),
    ("log path, peak RSS (queue 16MiB)", "filelog", "peak_rss", MB, "MB", "≤ 24 MB", lambda v: v <= 24 * MB),
    ("span path, 1 span/request, requests/s (wall)", "span-path", "spans1.requests_per_s", 1, "req/s", "≥ 10,000", lambda v: v >= 10000),
    ("span path, 100 spans/request, CPU s per M spans", "span-path", "spans100.cpu_s_per_M_spans", 1, "CPU s", "≤ 5", lambda v: v <= 5),
    ("span path, 100 spans/request, CPU s per M spans offered (accepted or refused with 429)", "span-path", "spans100.cpu_s_per_M_offered_spans", 1, "CPU s", "", None),
    ("span path, peak RSS, 100 spans/request", "span-path", "spans100.peak_rss", MB, "MB", "≤ 50 MB", lambda v: v <= 50 * MB),
    ("Flux objects, 10,000 Kustomizations held: extra RSS over an empty cluster", "flux-objects", "objects.extra_rss", MB, "MB", "", None),
    ("Flux objects, peak RSS of the initial 10,000-object list", "flux-objects", "objects.peak_rss", MB, "MB", "", None),
    ("Flux objects, CPU per 1,000 watch events at 100/s (10,000 objects held)", "flux-objects", "watch.cpu_ms_per_1k_events", 1, "ms CPU", "", None),
]

m = latest["machine"]
run = latest.get("run", {})
print(f"Measured {latest['date']} with `{latest['command']}` ({latest['runs_per_benchmark']} runs; "
      f"{run.get('total_seconds', '?')} s in all including {run.get('build_seconds', '?')} s of builds) on "
      f"{m['cpu_model']}, {m['cpus']} CPUs, {m['swift']}, commit {m['git_commit']}"
      f"{' (dirty)' if m.get('git_dirty') else ''}. "
      + (f"**Loaded machine**: other work shared the {m['cpus']} cores (load average at the end {m['loadavg_at_end']}); "
         "wall-clock figures are pessimistic, CPU-time figures are the ones to compare.\n"
         if float(str(m.get('loadavg_at_end', '0')).split()[0]) > float(m.get('cpus', 2)) else
         f"Nothing else ran on the machine (load average at the end {m['loadavg_at_end']}); CPU-time figures "
         "are still the ones to compare between runs.\n"))
print("| figure | median | min | max | target | met |")
print("| --- | ---: | ---: | ---: | --- | :---: |")
for label, bench, name, scale, unit, target, check in HEADLINE:
    f = fig(bench, name)
    if f is None:
        print(f"| {label} | – | | | {target} | not measured |")
        continue
    met = "" if check is None or f["median"] is None else ("yes" if check(f["median"]) else "**no**")
    print(f"| {label} | {num(f['median'], scale)} {unit} | {num(f['min'], scale)} | {num(f['max'], scale)} | {target} | {met} |")
if soak:
    first = soak.get("rss_after_warmup_median_first_2min", 0) / MB
    print(f"| soak ({soak['minutes']:g} min, {soak['scale']}× workload, sink failing {soak['fail_ratio']:.0%}): RSS after warm-up → "
          f"end, max | {first:.1f} → {soak.get('rss_median_last_2min', 0) / MB:.1f} MB | | {soak.get('rss_max_after_warmup', 0) / MB:.1f} MB "
          f"| flat within 10 % | {'yes' if soak.get('rss_flat_within_10pct') else '**no**'} |")
    series = soak.get("rss_series", [])
    if series and len(series[0]) >= 5 and "warmup_seconds" in soak:
        import statistics
        w, end = soak["warmup_seconds"], series[-1][0]
        def part(i, lo, hi):
            return statistics.median(p[i] for p in series if lo <= p[0] < hi) / MB
        print(f"| soak: RSS parts after warm-up → end (medians): anonymous; mapped files | "
              f"{part(3, w, w + 120):.1f} → {part(3, end - 120, end + 1):.1f} MB; "
              f"{part(4, w, w + 120):.1f} → {part(4, end - 120, end + 1):.1f} MB | | | | |")
    print(f"| soak: log lines lost / duplicated (of {soak['log_lines_sent']:,}); spans lost / duplicated (of "
          f"{soak['spans_accepted']:,}) | {soak['log_lines_lost']} / {soak['log_records_duplicated']}; "
          f"{soak['spans_lost']} / {soak['spans_duplicated']} | | | 0 lost | "
          f"{'yes' if soak['log_lines_lost'] == 0 and soak['spans_lost'] == 0 else '**no**'} |")
print()
print("<details><summary>Every figure (median, min, max over the runs; n = samples)</summary>\n")
print("| benchmark | figure | median | min | max | unit | n |")
print("| --- | --- | ---: | ---: | ---: | --- | ---: |")
for bench, b in B.items():
    for name, f in b["figures"].items():
        scale, unit = (MB, "MB") if f["unit"] == "B" and (f["median"] or 0) >= 1e5 else (1, f["unit"])
        print(f"| {bench} | {name} | {num(f['median'], scale, 4)} | {num(f['min'], scale, 4)} | {num(f['max'], scale, 4)} | "
              f"{unit} {'↑' if f['better'] == 'higher' else '↓'} | {f['runs']} |")
print("\n</details>")

redirect.__exit__(None, None, None)
if readme:
    path = os.path.join(os.path.dirname(here), "README.md")
    text = open(path).read()
    start, end = "<!-- bench-summary:start -->\n", "<!-- bench-summary:end -->"
    a, b = text.index(start) + len(start), text.index(end)
    open(path, "w").write(text[:a] + buffer.getvalue() + text[b:])
    print(f"summary: updated {path}")
