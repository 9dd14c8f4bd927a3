"""Turn hyperfine --export-json files into one markdown table: median, min, max, runs, peak
memory, ratio.

usage: summarise.py BASELINE_NAME [--mem MEM.tsv] RESULT.json... > table.md
The ratio is each command's median over the baseline's median. MEM.tsv (written by `peak` in
bench/lib.sh) holds NAME<TAB>KiB lines: the peak memory of one more run of each command.
"""
import json
import statistics
import sys

args = sys.argv[1:]
baseline = args.pop(0)
mem = {}
if args and args[0] == "--mem":
    args.pop(0)
    for line in open(args.pop(0)):
        name, _, kib = line.rstrip("\n").partition("\t")
        if kib.strip().isdigit():
            mem[name] = int(kib)
rows = []
for path in args:
    for r in json.load(open(path))["results"]:
        times = r["times"]
        rows.append((r["command"], statistics.median(times), min(times), max(times), len(times)))
base = next((m for c, m, *_ in rows if c == baseline), None)


def size(kib):
    if kib is None:
        return "-"
    return f"{kib / 1024:.1f} MiB"


print("| command | median | min | max | runs | peak memory | ratio |")
print("|---|---:|---:|---:|---:|---:|---:|")
for cmd, med, lo, hi, n in rows:
    ratio = f"{med / base:.2f}" if base else "-"
    print(f"| `{cmd}` | {med * 1000:.2f} ms | {lo * 1000:.2f} ms | {hi * 1000:.2f} ms | {n} | {size(mem.get(cmd))} | {ratio} |")
