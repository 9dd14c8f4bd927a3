"""Turn hyperfine --export-json files into one markdown table: median, min, max, ratio.

usage: summarise.py BASELINE_NAME RESULT.json... > table.md
The ratio is each command's median over the baseline's median.
"""
import json
import statistics
import sys

baseline = sys.argv[1]
rows = []
for path in sys.argv[2:]:
    for r in json.load(open(path))["results"]:
        times = r["times"]
        rows.append((r["command"], statistics.median(times), min(times), max(times), len(times)))
base = next((m for c, m, *_ in rows if c == baseline), None)
print("| command | median | min | max | runs | ratio |")
print("|---|---:|---:|---:|---:|---:|")
for cmd, med, lo, hi, n in rows:
    ratio = f"{med / base:.2f}" if base else "-"
    print(f"| `{cmd}` | {med * 1000:.2f} ms | {lo * 1000:.2f} ms | {hi * 1000:.2f} ms | {n} | {ratio} |")
