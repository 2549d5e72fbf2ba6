#!/usr/bin/env python3
"""Summarises the per-query latencies of scripts/bench-miss-latency's dnsperf runs.

Each input file is the stdout of one `dnsperf -v` run; its name says what was measured:
    UPSTREAM.PATH.rROUND.txt      e.g. dot-test-server.proxy.r2.txt
where PATH is `direct` (dnsperf -m dot straight to the upstream) or `proxy` (dnsperf -m udp to
dotproxy, which forwards over DoT to that upstream). dnsperf -v prints one line per answer,
    > NOERROR q17.r2.direct.x1.bench.test A 0.000123
the last field being the latency in seconds (microsecond resolution). The first --warmup answers
of every run are dropped: they carry the TLS handshake (direct) or dotproxy's first use of its
upstream connection (proxy).

    miss_latency.py report [--warmup N] FILE...    Markdown tables on stdout

Standard library only.
"""

import argparse
import math
import os
import re
import sys
from collections import defaultdict

NAME_RE = re.compile(r"^(?P<upstream>.+)\.(?P<path>direct|proxy)\.r(?P<round>\d+)\.txt$")
LOST_RE = re.compile(r"^\s*Queries lost:\s+(\d+)")
PATH_LABEL = {
    "direct": "direct DoT (dnsperf -m dot)",
    "proxy": "via dotproxy (UDP in, DoT out)",
}


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def parse_run(path, warmup):
    """Returns (latencies in µs after warm-up, non-NOERROR answers, lost queries)."""
    answers = []
    errors = 0
    lost = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("> "):
                fields = line.split()
                try:
                    latency_us = round(float(fields[-1]) * 1e6)
                except (ValueError, IndexError):
                    errors += 1
                    continue
                answers.append((fields[1], latency_us))
                continue
            m = LOST_RE.match(line)
            if m:
                lost += int(m.group(1))
    measured = answers[warmup:]
    latencies = [lat for rcode, lat in measured if rcode == "NOERROR"]
    errors += sum(1 for rcode, _ in measured if rcode != "NOERROR")
    return latencies, errors, lost


def fmt(us):
    return "—" if math.isnan(us) else f"{us:,.0f}"


def report(files, warmup):
    # (upstream, path) -> {round: latencies}
    runs = defaultdict(dict)
    errors = defaultdict(int)
    lost = defaultdict(int)
    upstream_order = []
    for path in files:
        m = NAME_RE.match(os.path.basename(path))
        if not m:
            sys.exit(f"miss_latency.py: unexpected file name {path}")
        key = (m["upstream"], m["path"])
        if m["upstream"] not in upstream_order:
            upstream_order.append(m["upstream"])
        lat, err, lst = parse_run(path, warmup)
        runs[key][int(m["round"])] = lat
        errors[key] += err
        lost[key] += lst

    stats = {}
    for key, by_round in runs.items():
        all_lat = sorted(x for lat in by_round.values() for x in lat)
        stats[key] = {
            "n": len(all_lat),
            "p50": percentile(all_lat, 50),
            "p99": percentile(all_lat, 99),
            "max": all_lat[-1] if all_lat else float("nan"),
            "rounds": {r: percentile(sorted(lat), 50) for r, lat in sorted(by_round.items())},
        }

    out = []
    out.append("| path | queries | p50 µs | p99 µs | added p50/p99 vs direct |")
    out.append("|------|--------:|-------:|-------:|------------------------:|")
    for upstream in upstream_order:
        direct = stats.get((upstream, "direct"))
        for p in ("direct", "proxy"):
            s = stats.get((upstream, p))
            if s is None:
                continue
            if p == "direct" or direct is None:
                added = "—"
            else:
                added = (f"+{fmt(s['p50'] - direct['p50'])} / "
                         f"+{fmt(s['p99'] - direct['p99'])}").replace("+-", "−")
            out.append(f"| {upstream}: {PATH_LABEL[p]} | {s['n']:,} | {fmt(s['p50'])} | "
                       f"{fmt(s['p99'])} | {added} |")

    out.append("")
    rounds = sorted({r for s in stats.values() for r in s["rounds"]})
    out.append("Per-round p50 (µs), max over all rounds, and failures (non-NOERROR answers after "
               "warm-up / queries dnsperf counted lost):")
    out.append("")
    out.append("| path | " + " | ".join(f"r{r} p50" for r in rounds) + " | max µs | failures |")
    out.append("|------|" + "|".join("------:" for _ in rounds) + "|-------:|---------:|")
    for upstream in upstream_order:
        for p in ("direct", "proxy"):
            s = stats.get((upstream, p))
            if s is None:
                continue
            cells = " | ".join(fmt(s["rounds"].get(r, float("nan"))) for r in rounds)
            out.append(f"| {upstream}: {p} | {cells} | {fmt(s['max'])} | "
                       f"{errors[(upstream, p)]} / {lost[(upstream, p)]} |")
    print("\n".join(out))

    bad = sum(errors.values()) + sum(lost.values())
    return 1 if bad else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="Markdown tables from dnsperf -v outputs")
    rep.add_argument("--warmup", type=int, default=0,
                     help="answers dropped at the start of every run")
    rep.add_argument("files", nargs="+")
    args = parser.parse_args()
    if args.command == "report":
        return report(args.files, args.warmup)
    return 2


if __name__ == "__main__":
    sys.exit(main())
