#!/usr/bin/env python3
"""Raw results and report of scripts/bench-macro (dotproxy versus its peers, issue #7).

The harness calls `record` after every dnsperf run; it parses dnsperf's output and appends one
JSON object per run to the raw file, so the shell script stays simple and the figures can be
reported again later. `report` turns the raw file into Markdown: one table of medians over the
rounds with each figure's ratio to dotproxy's, the targets (met or missed, and by how much), the
method and machine, and every round's figures so the noise is visible.

    macro_report.py record --raw F --round R --server S --test T --file DNSPERF_OUT
                           --cpu-ns N --offered QPS [--warmup N] [--status "failed: ..."]
    macro_report.py median --raw F --server S --test T     median q/s of the runs (0 if none)
    macro_report.py report --raw F --meta META_TSV [--out FILE]

Tests: hit_udp_max, hit_udp_fixed, hit_tcp_max, hit_tcp_fixed (the pre-warmed names), miss_max,
miss_fixed, miss_lat (names never asked before), the same three with _stock (against the stock
upstream, Nagle on), rss (round 0), start (a server that did not start); DNSSEC (issue #16):
miss_dnssec_max, miss_dnssec_fixed, miss_dnssec_lat (names of the lab's signed bulk.test.,
validated), miss_dnssec_off_* (dotproxy --dnssec off, the same names), miss_dnssec_check (a
validation check failed after the runs).
CPU time is the server's, all threads (schedstat ns), from just before to just after dnsperf.
Standard library only.
"""

import argparse
import json
import math
import os
import re
import statistics
import sys

SERVERS = ["dotproxy", "unbound", "dnsdist", "kresd", "stubby", "null", "direct"]
LABEL = {
    "dotproxy": "dotproxy",
    "unbound": "Unbound",
    "dnsdist": "dnsdist",
    "kresd": "Knot Resolver",
    "stubby": "stubby (no cache)",
    "null": "null responder (floor)",
    "direct": "upstream, direct DoT",
}
PEERS = ["unbound", "dnsdist", "kresd", "stubby"]
CACHED_PEERS = ["unbound", "dnsdist", "kresd"]

# key: (test, field, column heading, higher is better)
METRICS = {
    "hit_udp_qps": ("hit_udp_max", "qps", "UDP hit q/s", True),
    "hit_udp_cpu": ("hit_udp_fixed", "cpu_us", "UDP hit CPU µs", False),
    "hit_tcp_qps": ("hit_tcp_max", "qps", "TCP hit q/s", True),
    "hit_tcp_cpu": ("hit_tcp_fixed", "cpu_us", "TCP hit CPU µs", False),
    "miss_qps": ("miss_max", "qps", "miss q/s", True),
    "miss_cpu": ("miss_max", "cpu_us", "CPU µs/miss", False),
    "miss_fixed_cpu": ("miss_fixed", "cpu_us", "CPU µs/miss at fixed load", False),
    "miss_fixed_p50": ("miss_fixed", "p50_us", "miss p50 µs at fixed load", False),
    "miss_p50": ("miss_lat", "p50_us", "miss p50 µs", False),
    "miss_p99": ("miss_lat", "p99_us", "miss p99 µs", False),
    "rss_mb": ("rss", "rss_mb", "RSS MB", False),
    "stock_miss_qps": ("miss_max_stock", "qps", "miss q/s", True),
    "stock_miss_cpu": ("miss_max_stock", "cpu_us", "CPU µs/miss", False),
    "stock_miss_fixed_cpu": ("miss_fixed_stock", "cpu_us", "CPU µs/miss at fixed load", False),
    "stock_miss_fixed_p50": ("miss_fixed_stock", "p50_us", "miss p50 µs at fixed load", False),
    "stock_miss_fixed_p99": ("miss_fixed_stock", "p99_us", "miss p99 µs at fixed load", False),
    "stock_miss_p50": ("miss_lat_stock", "p50_us", "miss p50 µs", False),
    "stock_miss_p99": ("miss_lat_stock", "p99_us", "miss p99 µs", False),
}
# DNSSEC (issue #16): validated misses (miss_dnssec_*) and, for dotproxy, the same with
# --dnssec off (miss_dnssec_off_*), against the DNSSEC lab's upstream.
for _prefix, _test in (("dnssec_", "miss_dnssec"), ("dnssec_off_", "miss_dnssec_off")):
    METRICS.update({
        _prefix + "qps": (_test + "_max", "qps", "miss q/s", True),
        _prefix + "cpu": (_test + "_max", "cpu_us", "CPU µs/miss", False),
        _prefix + "fixed_cpu": (_test + "_fixed", "cpu_us", "CPU µs/miss at fixed load", False),
        _prefix + "fixed_p50": (_test + "_fixed", "p50_us", "miss p50 µs at fixed load", False),
        _prefix + "p50": (_test + "_lat", "p50_us", "miss p50 µs", False),
        _prefix + "p99": (_test + "_lat", "p99_us", "miss p99 µs", False),
    })
DNSSEC_COLUMNS = ["qps", "cpu", "fixed_cpu", "fixed_p50", "p50", "p99"]
# The rows of the DNSSEC table: (server, key prefix, label).
DNSSEC_ROWS = [
    ("dotproxy", "dnssec_", "dotproxy --dnssec validate"),
    ("dotproxy", "dnssec_off_", "dotproxy --dnssec off (no validation)"),
    ("unbound", "dnssec_", "Unbound, validator on"),
    ("kresd", "dnssec_", "Knot Resolver, validating"),
    ("direct", "dnssec_", "upstream, direct DoT (no validation)"),
]
VALIDATING_PEERS = ["unbound", "kresd"]
# The columns of the main table (NODELAY upstream) and of the stock upstream's table.
MAIN_KEYS = [k for k in METRICS if not k.startswith(("stock_", "dnssec_"))]
STOCK_KEYS = [k for k in METRICS if k.startswith("stock_")]


def measured_latency(test):
    """Runs whose per-answer latencies count (dnsperf -v), the first `warmup` left out."""
    return test.startswith("miss") and ("_lat" in test or "_fixed" in test)


# --- record -------------------------------------------------------------------------------

def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def parse_dnsperf(path, warmup):
    """Counters, response codes and (with -v) per-answer latencies of one dnsperf output."""
    res = {"sent": 0, "completed": 0, "lost": 0, "runtime": 0.0, "rcodes": {}}
    latencies = []
    patterns = {
        "sent": re.compile(r"^\s*Queries sent:\s+(\d+)"),
        "completed": re.compile(r"^\s*Queries completed:\s+(\d+)"),
        "lost": re.compile(r"^\s*Queries lost:\s+(\d+)"),
        "runtime": re.compile(r"^\s*Run time \(s\):\s+([\d.]+)"),
    }
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("> "):
                fields = line.split()
                try:
                    latencies.append((fields[1], float(fields[-1]) * 1e6))
                except (ValueError, IndexError):
                    pass
                continue
            for key, pat in patterns.items():
                m = pat.match(line)
                if m:
                    res[key] = float(m.group(1)) if key == "runtime" else int(m.group(1))
            m = re.match(r"^\s*Response codes:\s+(.*)$", line)
            if m:
                for code, count in re.findall(r"([A-Z]+) (\d+) \(", m.group(1)):
                    res["rcodes"][code] = int(count)
    if latencies:
        measured = sorted(lat for rcode, lat in latencies[warmup:] if rcode == "NOERROR")
        res["latency_n"] = len(measured)
        res["p50_us"] = percentile(measured, 50)
        res["p99_us"] = percentile(measured, 99)
    return res


def parse_status_file(path):
    """kB figures of /proc/PID/status lines saved after an RSS run."""
    out = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"^(\w+):\s+(\d+) kB", line)
                if m:
                    out[m.group(1)] = int(m.group(2))
    return out


def cmd_record(args):
    rec = {"round": args.round, "server": args.server, "test": args.test,
           "offered": args.offered, "cpu_ns": args.cpu_ns, "status": args.status or "ok"}
    if args.file != "/dev/null" and os.path.exists(args.file):
        rec.update(parse_dnsperf(args.file, args.warmup if measured_latency(args.test) else 0))
    # Figures count the right answers (NOERROR) only: a server that answers SERVFAIL under load
    # gets no credit for those, and the share is noted; under half right is a failed run.
    done = rec.get("completed", 0)
    good = rec.get("rcodes", {}).get("NOERROR", 0)
    if rec["status"] == "ok":
        if done == 0:
            rec["status"] = "failed: no answers"
        elif good < 0.5 * done:
            codes = ", ".join(f"{k} {v}" for k, v in sorted(rec["rcodes"].items()))
            rec["status"] = f"failed: only {100 * good / done:.0f}% NOERROR ({codes})"
        elif good < 0.99 * rec.get("sent", done):
            rec["note"] = f"{100 * (1 - good / rec['sent']):.0f}% not NOERROR or lost"
    if good and rec.get("runtime"):
        rec["qps"] = good / rec["runtime"]
    if good and args.cpu_ns > 0:
        rec["cpu_us"] = args.cpu_ns / 1000.0 / good
    if good and args.upstream_cpu_ns >= 0:
        rec["upstream_cpu_us"] = args.upstream_cpu_ns / 1000.0 / good
    if args.cpu_busy:  # "0:71,1:99": each CPU's busy share during the run, in %
        rec["cpu_busy"] = {c: float(v) for c, v in
                           (pair.split(":") for pair in args.cpu_busy.split(","))}
    if args.test == "rss":
        st = parse_status_file(args.file + ".status")
        if "VmRSS" in st:
            rec["rss_mb"] = st["VmRSS"] / 1024.0
            rec["rss_anon_mb"] = st.get("RssAnon", 0) / 1024.0
            rec["rss_file_mb"] = (st.get("RssFile", 0) + st.get("RssShmem", 0)) / 1024.0
            rec["rss_before_mb"] = st.get("VmRSSBefore", 0) / 1024.0
        elif rec["status"] == "ok":
            rec["status"] = "failed: no RSS read"
    with open(args.raw, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec, sort_keys=True) + "\n")
    return 0


def load(raw):
    recs = []
    if os.path.exists(raw):
        with open(raw, encoding="utf-8") as f:
            recs = [json.loads(line) for line in f if line.strip()]
    return recs


def cmd_median(args):
    vals = [r["qps"] for r in load(args.raw)
            if r["server"] == args.server and r["test"] == args.test and r["status"] == "ok"
            and "qps" in r]
    print(int(statistics.median(vals)) if vals else 0)
    return 0


# --- report -------------------------------------------------------------------------------

def fmt(v):
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


class Results:
    """Medians over rounds of every (server, metric), with the reasons of failed runs."""

    def __init__(self, recs):
        self.recs = recs
        self.rounds = sorted({r["round"] for r in recs if r["round"] > 0})
        self.servers = [s for s in SERVERS if any(r["server"] == s for r in recs)]

    def runs(self, server, test):
        return [r for r in self.recs if r["server"] == server and r["test"] == test]

    def start_failure(self, server):
        bad = [r["status"] for r in self.runs(server, "start")]
        return bad[0] if bad else None

    def values(self, server, key):
        test, field, _, _ = METRICS[key]
        return [r[field] for r in self.runs(server, test)
                if r["status"] == "ok" and r.get(field) is not None]

    def median(self, server, key):
        if key in ("added_p50", "stock_added_p50"):
            lat = "miss_p50" if key == "added_p50" else "stock_miss_p50"
            own, base = self.median(server, lat), self.median("direct", lat)
            return None if own is None or base is None or server == "direct" else own - base
        vals = self.values(server, key)
        return statistics.median(vals) if vals else None

    def why_missing(self, server, key):
        """Why a cell is empty: not applicable, or the failure of its runs."""
        if key in ("added_p50", "stock_added_p50"):
            if server == "direct":
                return "—"
            key = "miss_p50" if key == "added_p50" else "stock_miss_p50"
        test = METRICS[key][0]
        if server == "null" and test.startswith(("miss", "rss")):
            return "n/a (no upstream)" if test != "rss" else "n/a (no cache)"
        if server == "stubby" and test == "rss":
            return "n/a (no cache)"
        if server == "direct" and (not test.startswith("miss") or "_fixed" in test):
            return "—"
        if test.startswith("miss_dnssec"):
            # This run's failure, else any of the family's (a failed check stops the rest).
            family = test.rsplit("_", 1)[0]
            tests = {family + t for t in ("_max", "_fixed", "_lat", "_check")}
            bad = [r["status"] for r in self.runs(server, test) if r["status"] != "ok"] or [
                r["status"] for r in self.recs
                if r["server"] == server and r["test"] in tests and r["status"] != "ok"]
            return bad[0][:90] if bad else "not run"
        failure = self.start_failure(server)
        if failure:
            return failure
        bad = [r["status"] for r in self.runs(server, test) if r["status"] != "ok"]
        return bad[0][:70] if bad else "not run"

    def note(self, server, key):
        """What qualifies a figure: fixed-load runs in which the server answered under 95 % of
        the load offered, and runs with wrong answers or losses (the worst round)."""
        if key not in METRICS:
            return ""
        test = METRICS[key][0]
        notes = []
        runs = [r for r in self.runs(server, test) if r["status"] == "ok"]
        if "_fixed" in test:
            shares = [r["completed"] / (r["offered"] * r["runtime"]) for r in runs
                      if r.get("runtime") and r["offered"]]
            if shares and min(shares) < 0.95:
                notes.append(f"overloaded: {100 * min(shares):.0f}% of offered")
        bad = [r["note"] for r in runs if r.get("note")]
        if bad:
            notes.append(max(bad, key=lambda n: int(n.split("%")[0])))
        # The upstream's CPU per answer tells whether hits were hits and misses went upstream.
        up = [r.get("upstream_cpu_us", 0.0) for r in runs]
        if up and server not in ("stubby", "direct", "null"):
            if test.startswith("hit") and max(up) > 1.0:
                notes.append(f"upstream busy, {max(up):.1f} µs/answer: not all hits?")
            if test.startswith("miss") and min(up) < 2.0:
                notes.append(f"upstream idle, {min(up):.1f} µs/answer: not all misses?")
        return f" ({'; '.join(notes)})" if notes else ""


def main_table(res, stock=False):
    """Medians with ratios to dotproxy's: the NODELAY upstream's runs, or the stock one's."""
    if stock:
        keys = STOCK_KEYS + ["stock_added_p50"]
    else:
        keys = MAIN_KEYS + ["added_p50"]
        keys.insert(keys.index("rss_mb"), keys.pop())  # added p50 before RSS
    heads = [METRICS[k][2] if k in METRICS else "added p50 µs" for k in keys]
    out = ["| server | " + " | ".join(heads) + " |",
           "|---|" + "|".join("---:" for _ in keys) + "|"]
    for s in res.servers:
        if stock and s == "null":
            continue  # no upstream
        failure = res.start_failure(s)
        if failure:  # the reason once, in the first column
            out.append(f"| {LABEL[s]} | {failure} | " + " | ".join("failed" for _ in keys[1:]) + " |")
            continue
        cells = []
        for k in keys:
            v = res.median(s, k)
            if v is None:
                cells.append(res.why_missing(s, k))
                continue
            cell = fmt(v)
            base = res.median("dotproxy", k)
            if s != "dotproxy" and base not in (None, 0) and not k.endswith("added_p50"):
                cell += f" ({v / base:.2f}×)"
            cells.append(cell + res.note(s, k))
        out.append(f"| {LABEL[s]} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def round_table(res):
    rounds = res.rounds
    out = ["| server | figure | " + " | ".join(f"r{r}" for r in rounds)
           + " | lost (all rounds) | upstream CPU µs/answer |",
           "|---|---|" + "|".join("---:" for _ in rounds) + "|---:|---:|"]
    for s in res.servers:
        failure = res.start_failure(s)
        if failure:
            out.append(f"| {LABEL[s]} | start | " + " | ".join("failed" for _ in rounds)
                       + f" | {failure} | |")
            continue
        for key, (test, field, head, _) in METRICS.items():
            if test == "rss":
                continue
            if key.startswith("stock_"):
                head += " (stock upstream)"
            elif key.startswith("dnssec_off_"):
                head += " (DNSSEC off)"
            elif key.startswith("dnssec_"):
                head += " (DNSSEC)"
            runs = res.runs(s, test)
            if not runs:
                continue
            cells = []
            for r in rounds:
                run = next((x for x in runs if x["round"] == r), None)
                if run is None:
                    cells.append("—")
                elif run["status"] != "ok":
                    cells.append(run["status"])
                else:
                    note = f" ({run['note']})" if run.get("note") else ""
                    cells.append(fmt(run.get(field)) + note)
            lost = sum(x.get("lost", 0) for x in runs)
            sent = sum(x.get("sent", 0) for x in runs)
            # One row per test carries its totals.
            first = field == "qps" or (field == "p50_us" and test.startswith("miss") and
                                       "_lat" in test) or (
                field == "cpu_us" and test.startswith("miss") and "_fixed" in test)
            lost_cell = f"{lost:,} of {sent:,}" if first else ""
            up = [x["upstream_cpu_us"] for x in runs if "upstream_cpu_us" in x]
            up_cell = fmt(statistics.median(up)) if first and up else ""
            out.append(f"| {LABEL[s]} | {head} | " + " | ".join(cells)
                       + f" | {lost_cell} | {up_cell} |")
    return "\n".join(out)


def rss_table(res):
    out = ["| server | names answered | of sent | rate q/s | RSS before MB | RSS after MB "
           "| of which anon / file-backed MB | status |",
           "|---|---:|---:|---:|---:|---:|---:|---|"]
    for s in res.servers:
        for r in res.runs(s, "rss"):
            out.append(f"| {LABEL[s]} | {r.get('completed', 0):,} | {r.get('sent', 0):,} | "
                       f"{r['offered']:,} | {fmt(r.get('rss_before_mb'))} | {fmt(r.get('rss_mb'))}"
                       f" | {fmt(r.get('rss_anon_mb'))} / {fmt(r.get('rss_file_mb'))} "
                       f"| {r['status']} |")
    return "\n".join(out)


class Verdicts:
    """Target lines: met, missed or unknown, with the figures behind each."""

    def __init__(self, res):
        self.res = res
        self.lines = []

    def best(self, key, peers):
        higher = METRICS[key][3]
        vals = [(self.res.median(p, key), p) for p in peers
                if self.res.median(p, key) is not None]
        if not vals:
            return None, None
        return (max if higher else min)(vals)

    def verdict(self, name, ok, detail):
        if ok is None:
            self.lines.append(f"- {name}: **unknown** — {detail}")
        else:
            self.lines.append(f"- {name}: **{'met' if ok else 'missed'}** — {detail}")

    def compare(self, name, key, peers, factor, higher, what):
        dp = self.res.median("dotproxy", key)
        ref, who = self.best(key, peers)
        if dp is None or ref is None:
            missing = "dotproxy" if dp is None else "any peer"
            self.verdict(name, None, f"no figure for {missing}")
            return
        ratio = dp / ref if ref else float("inf")
        ok = ratio >= factor if higher else ratio <= factor
        self.verdict(name, ok, f"dotproxy {fmt(dp)} vs {what} {LABEL[who]} {fmt(ref)}: "
                               f"{ratio:.2f}× (needs {'≥' if higher else '≤'} {factor:.2f}×)")


def dnssec_ran(res):
    return any(r["test"].startswith("miss_dnssec") for r in res.recs)


def dnssec_table(res):
    """Validated misses: medians, with each figure's ratio to dotproxy --dnssec validate's."""
    heads = [METRICS["dnssec_" + c][2] for c in DNSSEC_COLUMNS] + ["p50 added by validation µs"]
    out = ["| server | " + " | ".join(heads) + " |",
           "|---|" + "|".join("---:" for _ in heads) + "|"]
    for server, prefix, label in DNSSEC_ROWS:
        if not any(r["server"] == server and r["test"].startswith(METRICS[prefix + "qps"][0][:-4])
                   for r in res.recs):
            continue
        cells = []
        for c in DNSSEC_COLUMNS:
            key = prefix + c
            v = res.median(server, key)
            if v is None:
                cells.append(res.why_missing(server, key))
                continue
            cell = fmt(v)
            base = res.median("dotproxy", "dnssec_" + c)
            if (server, prefix) != ("dotproxy", "dnssec_") and base not in (None, 0):
                cell += f" ({v / base:.2f}×)"
            cells.append(cell + res.note(server, key))
        if len(set(cells)) == 1 and cells[0].startswith("failed"):  # the reason once
            cells = cells[:1] + ["failed"] * (len(cells) - 1)
        added = dnssec_added_p50(res) if (server, prefix) == ("dotproxy", "dnssec_") else None
        cells.append("—" if added is None else f"+{fmt(added)}")
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def dnssec_added_p50(res):
    """dotproxy's p50 at the low load, --dnssec validate minus --dnssec off."""
    on, off = res.median("dotproxy", "dnssec_p50"), res.median("dotproxy", "dnssec_off_p50")
    return None if on is None or off is None else on - off


def dnssec_targets(res, fixed_qps):
    """Issue #16's targets for validated misses."""
    v = Verdicts(res)
    v.compare(f"CPU µs per validated miss at a fixed {fixed_qps:,} q/s at most 0.7× the better "
              "of Unbound and Knot Resolver validating", "dnssec_fixed_cpu", VALIDATING_PEERS,
              0.7, False, "better")
    v.compare("CPU µs per validated miss at the max rate at most 0.7× the better of Unbound and "
              "Knot Resolver validating", "dnssec_cpu", VALIDATING_PEERS, 0.7, False, "better")
    # What validation itself costs dotproxy, and how much of a low-rate figure is wake-ups.
    on_max, off_max = res.median("dotproxy", "dnssec_cpu"), res.median("dotproxy", "dnssec_off_cpu")
    on_fix = res.median("dotproxy", "dnssec_fixed_cpu")
    off_fix = res.median("dotproxy", "dnssec_off_fixed_cpu")
    if None not in (on_max, off_max, on_fix, off_fix):
        v.lines.append(
            f"  - note: validation's own CPU per miss in dotproxy (validate − off): "
            f"{fmt(on_max - off_max)} µs at the max rate, {fmt(on_fix - off_fix)} µs at the fixed "
            f"load; at the fixed load even --dnssec off costs {fmt(off_fix)} µs per miss ({fmt(off_max)} at "
            "the max rate): per-query wake-ups, paid by every server, so the fixed-load ratio "
            "sits nearer 1 than the max-rate one")
    added = dnssec_added_p50(res)
    name = "p50 latency added by validation (warm keys) over --dnssec off: under 30 µs"
    if added is None:
        v.verdict(name, None, "no p50 for dotproxy --dnssec validate or off")
    else:
        v.verdict(name, added < 30,
                  f"+{fmt(added)} µs (p50 {fmt(res.median('dotproxy', 'dnssec_p50'))} µs "
                  f"validating, {fmt(res.median('dotproxy', 'dnssec_off_p50'))} µs off)")
        if on_max is not None and off_max is not None and on_max - off_max >= 30:
            v.lines.append(
                f"  - note: validation's CPU per miss at the max rate ({fmt(on_max - off_max)} µs,"
                " at least one signature check per answer) is itself over 30 µs, and it is on "
                "the answer's path")
    return "\n".join(v.lines)


def stock_targets(res, fixed_qps):
    """Issue #14's targets, on the stock upstream (Nagle on), side by side in one run."""
    v = Verdicts(res)
    at = f"at a fixed {fixed_qps:,} q/s"
    v.compare(f"miss latency p50 {at} at or below the best peer's", "stock_miss_fixed_p50",
              PEERS, 1.0, False, "best")
    v.compare("maximum miss rate at least the best peer's", "stock_miss_qps", PEERS, 1.0, True,
              "best")
    v.compare(f"CPU µs per miss {at} at most 0.5× the best peer's", "stock_miss_fixed_cpu",
              PEERS, 0.5, False, "best")
    return "\n".join(v.lines) if v.lines else "- not run (BENCH_STOCK=0)"


def targets(res, names):
    """Each target of issue #7, computed from the medians: met or missed, and by how much."""
    v = Verdicts(res)
    lines = v.lines
    verdict, compare = v.verdict, v.compare

    dp, null = res.median("dotproxy", "hit_udp_cpu"), res.median("null", "hit_udp_cpu")
    if dp is None or null is None:
        verdict("cache-hit CPU µs per answer (UDP) within 1.2× of the null responder", None,
                "no figure for " + ("dotproxy" if dp is None else "the null responder"))
    else:
        verdict("cache-hit CPU µs per answer (UDP) within 1.2× of the null responder",
                dp <= 1.2 * null, f"dotproxy {fmt(dp)} µs vs null {fmt(null)} µs: "
                                  f"{dp / null:.2f}× (needs ≤ 1.20×)")
    compare("cache-hit CPU µs per answer (UDP) at most 0.85× the best peer's", "hit_udp_cpu",
            CACHED_PEERS, 0.85, False, "best")
    for proto in ("udp", "tcp"):
        key = f"hit_{proto}_qps"
        compare(f"cache-hit max q/s ({proto.upper()}) at least the best peer's", key,
                CACHED_PEERS, 1.0, True, "best")
        # Near the null responder's figure, dnsperf (one CPU) is the limit, not the servers.
        nullq = res.median("null", key)
        near = [(v / nullq, LABEL[p]) for p in ["dotproxy"] + CACHED_PEERS
                if nullq and (v := res.median(p, key)) is not None and v >= 0.85 * nullq]
        if near:
            lines.append("  - note: " + ", ".join(f"{who} {share:.0%}" for share, who in near)
                         + " of the null responder's q/s: dnsperf (one CPU) is near its own "
                         "limit here, so these figures say little about the servers")
    compare("cache-miss throughput at least 1.5× the best peer's", "miss_qps", PEERS, 1.5,
            True, "best")
    # Which CPU ran out first: the server's, or the one dnsperf shares with the upstream.
    busy = {}
    for run in res.runs("dotproxy", "miss_max"):
        for cpu, share in run.get("cpu_busy", {}).items():
            busy.setdefault(cpu, []).append(share)
    if "0" in busy and "1" in busy:
        server, client = statistics.median(busy["0"]), statistics.median(busy["1"])
        lines.append(f"  - note: in dotproxy's miss runs CPU 0 (dotproxy) was {server:.0f}% busy "
                     f"and CPU 1 (dnsperf and the upstream) {client:.0f}%"
                     + (": the upstream's CPU is the limit, not dotproxy" if client >= 95
                        and server < 90 else ""))
    compare("CPU µs per miss at most half the best peer's", "miss_cpu", PEERS, 0.5, False,
            "best")
    compare("CPU µs per miss at a fixed load at most half the best peer's", "miss_fixed_cpu",
            PEERS, 0.5, False, "best")
    added = res.median("dotproxy", "added_p50")
    if added is None:
        verdict("miss latency added over direct DoT: p50 under 50 µs", None,
                "no p50 for dotproxy or for direct DoT")
    else:
        verdict("miss latency added over direct DoT: p50 under 50 µs", added < 50,
                f"+{fmt(added)} µs (p50 {fmt(res.median('dotproxy', 'miss_p50'))} µs via "
                f"dotproxy, {fmt(res.median('direct', 'miss_p50'))} µs direct)")
    target = f"RSS after {names:,} names: under 200 MB and below every peer's"
    rss = res.median("dotproxy", "rss_mb")
    if rss is None:
        verdict(target, None, "no RSS figure for dotproxy")
    else:
        peers = [(res.median(p, "rss_mb"), p) for p in CACHED_PEERS]
        known = [(v, p) for v, p in peers if v is not None]
        ok = rss < 200 and all(rss < v for v, _ in known)
        low = min(known) if known else None
        detail = f"dotproxy {fmt(rss)} MB (limit 200)"
        if low:
            detail += f"; lowest peer {LABEL[low[1]]} {fmt(low[0])} MB ({rss / low[0]:.2f}×)"
            run = next(iter(res.runs(low[1], "rss")), {})
            if run.get("rss_mb") and run.get("rss_file_mb", 0) > 0.5 * run["rss_mb"]:
                detail += (f", {100 * run['rss_file_mb'] / run['rss_mb']:.0f}% of it file-backed "
                           "(mapped cache file)")
        missing = [LABEL[p] for v, p in peers if v is None and p in res.servers]
        if missing:
            detail += "; no figure for " + ", ".join(missing)
        verdict(target, ok, detail)
    return "\n".join(lines)


def read_meta(path):
    meta = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if "\t" in line:
                k, v = line.rstrip("\n").split("\t", 1)
                meta[k] = v
    return meta


def cmd_report(args):
    res = Results(load(args.raw))
    m = read_meta(args.meta)
    quick = " **Quick run (BENCH_QUICK=1): a smoke test, not a measurement.**" \
        if m.get("quick") == "1" else ""
    names = int(m.get("rss_names", "0"))
    fixed_qps = int(m.get("miss_fixed_qps", "0") or 0)
    stock_ran = any(r["test"].endswith("_stock") for r in res.recs)
    stock_table = main_table(res, stock=True) if stock_ran else "Not run (BENCH_STOCK=0)."
    stock_verdicts = stock_targets(res, fixed_qps) if stock_ran else ""
    main_ran = m.get("main", "1") == "1"
    results = main_table(res) if main_ran else "Not run (BENCH_MAIN=0)."
    main_targets = targets(res, names) if main_ran else "- not run (BENCH_MAIN=0)"
    if not main_ran:
        stock_table, stock_verdicts = "Not run (BENCH_MAIN=0).", ""
    dnssec_qps = int(m.get("dnssec_fixed_qps", "0") or 0)
    if dnssec_ran(res):
        dnssec = f"""{dnssec_table(res)}

{dnssec_targets(res, dnssec_qps)}"""
        if m.get("dnssec_failed"):
            dnssec += ("\n\n**Validation checks failed** (those servers were not measured, or "
                       f"not further): {m['dnssec_failed']}")
    else:
        state = m.get("dnssec", "0")
        dnssec = f"Not run ({'BENCH_DNSSEC=0' if state == '0' else state})."
    text = f"""# Macro benchmark: dotproxy and its peers

Made by `scripts/bench-macro` on {m.get('date')}.{quick}

- Machine: {m.get('nproc')} CPUs, {m.get('cpu')}, {m.get('memory')}, {m.get('kernel')}; load average {m.get('load')}
- Versions: {m.get('dotproxy')}; Unbound {m.get('unbound')}; dnsdist {m.get('dnsdist')}; Knot Resolver {m.get('kresd')}; stubby {m.get('stubby')}; dnsperf {m.get('dnsperf')}
- Pinning: {m.get('pinning')}.

## Results

Medians over {m.get('rounds')} rounds; (N×) is the figure divided by dotproxy's. CPU µs is the
server's CPU time (all threads) per answer; q/s are answers per second.

{results}

## Targets (issue #7)

{main_targets}

## Misses against a stock upstream (issue #14)

The same Unbound as Debian ships it, without the TCP_NODELAY preload: Nagle's algorithm on, the
DoT server people self-host most. Every forwarding server restarted pointing at it; medians over
{m.get('rounds')} rounds, (N×) against dotproxy's.

{stock_table}

{stock_verdicts}

## Validated misses in a signed zone (issue #16)

Names of the DNSSEC lab's signed zone bulk.test. (ECDSAP256SHA256, secure from the lab's root
trust anchor), each asked once of each server with DO=1, the same names for every server; all
forward over DoT to the lab's honest (non-validating) Unbound, which has every name cached.
Medians over {m.get('rounds')} rounds; (N×) against dotproxy --dnssec validate.

{dnssec}

## Method

- Upstream: Unbound {m.get('unbound')} over DNS-over-TLS (ECDSA certificate made by certtool
  for the run) with a static zone of 100,000 names (nN.bench A, TTL 86400) and a redirect zone
  under which every name answers (miss.bench A 192.0.2.7, TTL 86400); one thread, no logging,
  TCP_NODELAY on its connections (bench/nodelay_preload.cc: Unbound 1.17 leaves Nagle on, and
  an answer then waits for the ACK of the one before: ~1/rate of latency at moderate rates).
- Every server forwards to it over DoT, checking its certificate and name, with one worker
  thread each: dotproxy `--workers 1 --cache-size 512M`; Unbound `num-threads: 1`, forward-zone
  with forward-tls-upstream, caches 512 MB msg + 1 GB rrset, prefetch off; dnsdist one listener,
  `setMaxTCPClientThreads(1)`, DoT backend with `maxInFlight=1024` (pipelined on one
  connection, answered out of order), 2M-entry packet cache; Knot Resolver one process,
  policy.TLS_FORWARD, 2 GB cache in the run's directory, DNSSEC validation off (unsigned zone);
  stubby DoT only, strict authentication, no cache, so its "hits" are forwards; the null
  responder (bench/null_responder.cc) echoes each query with QR set, over UDP
  (recvmmsg/sendmmsg) and TCP: the kernel's share, a floor for CPU per answer. Its max q/s is
  a reference, not a ceiling: there dnsperf, on one CPU, is the limit as often as the server.
- Cache hits: the {m.get('hit_names')} names n1..n{m.get('hit_names')}.bench, asked once before
  (warm-up), then over and over: max q/s with dnsperf unthrottled (-c 4 -q 500), CPU µs per
  answer at a fixed {int(m.get('fixed_qps', 0)):,} q/s offered (-Q); the same over TCP (-m tcp,
  4 connections). Each run {m.get('seconds')} s (-l).
- Cache misses: names never asked before in the run (qN.rROUND.SERVER.KIND.NONCE.miss.bench):
  max q/s unthrottled with 100 queries outstanding (-c 4 -q 100; Knot Resolver answers SERVFAIL
  to a good share beyond that), CPU µs per miss from the same run; CPU µs per miss and latency
  at a fixed {fixed_qps:,} q/s offered (-c 4 -q 100 -Q, -v); latency p50/p99 at
  {int(m.get('latency_qps', 0)):,} q/s offered (-q 20; dnsperf -v per-answer times; the first
  {m.get('warmup')} answers of each run not counted). The same to the upstream directly with
  dnsperf -m dot gives the upstream's own limit and the base of "added p50". Only NOERROR
  answers count in q/s and per-answer CPU; a note gives the share of other answers and losses.
- RSS: each cached server restarted fresh, then {names:,} distinct names sent (-q 100, -Q at
  80 % of its median miss max, at most the RSS rate cap), VmRSS read from /proc/PID/status a
  second after. Knot Resolver's cache is an LMDB file mapped into the process: its pages count
  as file-backed RSS (see the split below). stubby and the null responder have no cache.
- CPU time: the sum over /proc/PID/task/*/schedstat (first field, ns: every thread's time on a
  CPU) read just before and just after each dnsperf run, divided by the NOERROR answers. The
  upstream's CPU time is read the same way: near 0 per answer in a hit run shows the hits were
  hits, ~its direct figure in a miss run that the misses went upstream (flagged if not).
  Each CPU's busy share over the same run comes from /proc/stat (user, nice, system, irq and
  softirq against idle and iowait): it tells which CPU ran out first in the miss runs.
- DNSSEC: `scripts/dnssec-lab` (NSD for the signed test root, test. and the zones under it;
  DNSSEC_LAB_BULK_NAMES={m.get('dnssec_names')} adds bulk.test. with n1..nN.bulk.test. A), its
  honest Unbound (iterator only, TCP_NODELAY preloaded, pinned and niced like the main
  upstream) pre-fetching every name with DO=1 so that it answers all of them from its cache.
  Servers: dotproxy `--dnssec validate --trust-anchor LAB/root.ds` and `--dnssec off`, Unbound
  `module-config: "validator iterator"` with `trust-anchor-file` and a forward-zone "." with
  forward-tls-upstream (otherwise as above), Knot Resolver with `trust_anchors.add_file` and
  policy.TLS_FORWARD (which validates), each with one worker thread on CPU 0. Before the runs
  each is checked with kdig +dnssec: n1..n5.bulk.test. NOERROR with AD and the right address
  (which also warms the DNSKEY and DS caches), www.bogus.test. SERVFAIL (its A edited after
  signing); dotproxy --dnssec off: no AD and the bogus data served. Before each server's runs in
  a round one more name is checked, and after them a name of each run (from the cache now). A
  failed check stops that server's DNSSEC runs and fails the harness (exit 1). Per round and
  server: max q/s (-c 4 -q 100, up to {m.get('dnssec_max_names')} names), CPU µs per miss and
  p50 at a fixed {dnssec_qps:,} q/s offered, p50/p99 at {m.get('dnssec_latency_qps')} q/s
  offered (-q 20, the upstream moved next to the server as above), all with dnsperf -D (DO=1:
  the answers carry their RRSIGs, and --dnssec off forwards the same bytes). "p50 added by
  validation" is dotproxy's low-load p50 validating minus the same with --dnssec off.
- Order: the servers rotate from one round to the next; every dnsperf run is bounded by -l and
  timeout. Servers: {m.get('servers')}.

## Every round

{round_table(res)}

RSS runs:

{rss_table(res)}
"""
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="append one dnsperf run to the raw file")
    rec.add_argument("--raw", required=True)
    rec.add_argument("--round", type=int, required=True)
    rec.add_argument("--server", required=True, choices=SERVERS)
    rec.add_argument("--test", required=True)
    rec.add_argument("--file", required=True)
    rec.add_argument("--cpu-ns", type=int, default=0)
    rec.add_argument("--offered", type=int, default=0)
    rec.add_argument("--warmup", type=int, default=0)
    rec.add_argument("--status", default="")
    rec.add_argument("--upstream-cpu-ns", type=int, default=0)
    rec.add_argument("--cpu-busy", default="")
    med = sub.add_parser("median", help="median q/s of one server's runs of one test")
    med.add_argument("--raw", required=True)
    med.add_argument("--server", required=True)
    med.add_argument("--test", required=True)
    rep = sub.add_parser("report", help="Markdown report from the raw file")
    rep.add_argument("--raw", required=True)
    rep.add_argument("--meta", required=True)
    rep.add_argument("--out")
    args = parser.parse_args()
    return {"record": cmd_record, "median": cmd_median, "report": cmd_report}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
