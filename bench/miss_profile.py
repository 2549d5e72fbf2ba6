#!/usr/bin/env python3
"""Report of scripts/bench-miss-profile: where each server's CPU per cache miss goes.

Reads, per server and round, the clean run (<server>.r<N>.clean.json, .clean.txt: CPU, sleeps,
the upstream's CPU, dnsperf's output) and the profiled one (.perf.txt.gz: `perf script -F
comm,ip,sym,dso,period` with call chains; .stat.txt: perf stat -x,; .pcap: the upstream
connections) and prints Markdown: medians over rounds.
"""
import argparse
import gzip
import json
import re
import statistics
import struct
import sys
import time
from collections import Counter
from pathlib import Path

NAMES = {"dotproxy": "dotproxy", "kresd": "Knot Resolver", "dnsdist": "dnsdist"}
# Syscalls of one family share a row (the same kernel path under another entry point).
FAMILY = {"sendto": "sendto/write", "write": "sendto/write",
          "writev": "sendto/write", "sendmsg": "sendmsg/sendmmsg",
          "sendmmsg": "sendmsg/sendmmsg", "recvfrom": "recvfrom/read",
          "read": "recvfrom/read", "recvmsg": "recvmsg/recvmmsg",
          "recvmmsg": "recvmsg/recvmmsg", "epoll_wait": "epoll_wait (incl. sleeping)",
          "epoll_pwait": "epoll_wait (incl. sleeping)",
          # Samples taken on the way into or out of any syscall (PVM's interrupt enable,
          # the tracepoint perf stat counts syscalls with).
          "__raw_callee_save_pvm_irq_enable": "syscall entry/exit", "pvm_irq_enable":
          "syscall entry/exit", "exit_to_user_mode_loop": "syscall entry/exit",
          "syscall_trace_enter": "syscall entry/exit", "syscall_exit_work": "syscall entry/exit"}
SYSCALL = re.compile(r"^(?:__x64_sys_|__se_sys_|__do_sys_|ksys_|__sys_)(\w+)$")


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def dnsperf_figures(path):
    text = path.read_text(errors="replace") if path.exists() else ""
    done = re.search(r"Queries completed:\s+(\d+)", text)
    lat = re.search(r"Average Latency \(s\):\s+([\d.]+)", text)
    return (int(done.group(1)) if done else 0), (float(lat.group(1)) if lat else None)


def perf_samples(path):
    """Samples as (kernel?, bucket): kernel ones by the syscall (or trap) they ran under."""
    buckets = Counter()
    user_dsos = Counter()
    if not path.exists():
        return buckets, user_dsos
    chain = []

    def flush():
        if not chain:
            return
        first_ip = int(chain[0][0], 16)
        if first_ip >= 0xFFFF800000000000:
            bucket = "other kernel (interrupts, softirq)"
            syms = [sym for _, sym, _ in chain]
            if "do_syscall_64" in syms and syms.index("do_syscall_64") > 0:
                # The frame do_syscall_64 called is the syscall's handler (ksys_write when
                # __x64_sys_write was inlined; on Linux 6.9+ x64_sys_call dispatches to it).
                at = syms.index("do_syscall_64") - 1
                if syms[at] == "x64_sys_call" and at > 0:
                    at -= 1
                m = SYSCALL.match(syms[at])
                name = m.group(1) if m else syms[at]
                bucket = FAMILY.get(name, name)
            elif any("page_fault" in sym for sym in syms):
                bucket = "page faults"
            buckets[("k", bucket)] += 1
        else:
            dso = Path(chain[0][2].strip("()")).name or "?"
            user_dsos[re.sub(r"\.so[.\d]*$", "", dso)] += 1
            buckets[("u", "user")] += 1

    with gzip.open(path, "rt", errors="replace") as f:
        for line in f:
            if not line.strip():
                flush()
                chain = []
            elif line.startswith(("\t", " ")):
                # "\t<ip> <symbol> (<dso>)"; symbols may hold spaces (C++ templates).
                parts = line.split(None, 1)
                if len(parts) == 2 and re.fullmatch(r"[0-9a-f]+", parts[0]):
                    sym, _, dso = parts[1].rstrip().rpartition(" (")
                    chain.append((parts[0], sym.strip(), "(" + dso))
    flush()
    return buckets, user_dsos


def perf_stat(path):
    figures = {}
    if path.exists():
        for line in path.read_text().splitlines():
            cells = line.split(",")
            if len(cells) > 2 and cells[0].strip().isdigit():
                figures[cells[2]] = int(cells[0])
    return figures


def capture(path, upstream_port):
    """Segments on the upstream connections: (to: data, bytes, pure ACKs), (from: data, bytes)."""
    to_data = to_bytes = to_acks = from_data = from_bytes = 0
    if not path.exists():
        return None
    data = path.read_bytes()
    if len(data) < 24:
        return None
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    link_len = {1: 14, 113: 16, 0: 4}.get(linktype)
    if link_len is None:
        return None
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ip = pkt[link_len:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:]
        if len(tcp) < 20:
            continue
        sport = struct.unpack(">H", tcp[0:2])[0]
        payload = total - ihl - (tcp[12] >> 4) * 4
        if sport == upstream_port:
            if payload > 0:
                from_data += 1
                from_bytes += payload
        elif payload > 0:
            to_data += 1
            to_bytes += payload
        elif tcp[13] & 0x07 == 0:  # no SYN/FIN/RST: a pure ACK
            to_acks += 1
    return to_data, to_bytes, to_acks, from_data, from_bytes


def fmt(value, digits=1):
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", required=True)
    ap.add_argument("--servers", required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--qps", type=int, required=True)
    ap.add_argument("--seconds", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--versions", default="")
    ap.add_argument("--cpu", default="")
    args = ap.parse_args()
    runs = Path(args.runs)
    servers = args.servers.split()

    rows, kernel_rows, capture_rows, user_rows = {}, {}, {}, {}
    for s in servers:
        per_round = []
        for r in range(1, args.rounds + 1):
            base = f"{runs}/{s}.r{r}"
            try:
                clean = json.loads(Path(base + ".clean.json").read_text())
            except (OSError, ValueError):
                continue
            done, latency = dnsperf_figures(Path(base + ".clean.txt"))
            prof_done, _ = dnsperf_figures(Path(base + ".prof.txt"))
            if done == 0 or prof_done == 0:
                continue
            buckets, dsos = perf_samples(Path(base + ".perf.txt.gz"))
            total = sum(buckets.values())
            cpu = clean["cpu_ns"] / 1000 / done
            stat = perf_stat(Path(base + ".stat.txt"))
            cap = capture(Path(base + ".pcap"), args.upstream_port)
            per_round.append({
                "cpu": cpu,
                "latency_ms": latency * 1000 if latency is not None else None,
                "sleeps": clean["sleeps"] / done,
                "upstream": clean["upstream_cpu_ns"] / 1000 / done,
                "share": {k: v / total for k, v in buckets.items()} if total else {},
                "dsos": {k: v / total for k, v in dsos.items()} if total else {},
                "syscalls": stat.get("raw_syscalls:sys_enter", 0) / prof_done if stat else None,
                "cap": [c / prof_done for c in cap] if cap else None,
            })
        if not per_round:
            rows[s] = None
            continue
        kernel = median([sum(v for (kind, _), v in p["share"].items() if kind == "k") * p["cpu"]
                         for p in per_round])
        rows[s] = {
            "cpu": median([p["cpu"] for p in per_round]),
            "kernel": kernel,
            "user": median([p["share"].get(("u", "user"), 0) * p["cpu"] for p in per_round]),
            "sleeps": median([p["sleeps"] for p in per_round]),
            "syscalls": median([p["syscalls"] for p in per_round]),
            "upstream": median([p["upstream"] for p in per_round]),
            "latency_ms": median([p["latency_ms"] for p in per_round]),
            "rounds": [p["cpu"] for p in per_round],
        }
        buckets = {b for p in per_round for (kind, b) in p["share"] if kind == "k"}
        kernel_rows[s] = {b: median([p["share"].get(("k", b), 0) * p["cpu"] for p in per_round])
                          for b in buckets}
        dsos = {d for p in per_round for d in p["dsos"]}
        user_rows[s] = {d: median([p["dsos"].get(d, 0) * p["cpu"] for p in per_round])
                        for d in dsos}
        caps = [p["cap"] for p in per_round if p["cap"]]
        capture_rows[s] = [median([c[i] for c in caps]) for i in range(5)] if caps else None

    out = []
    w = out.append
    w("# Where the CPU of a cache miss goes: dotproxy and its peers")
    w("")
    w(f"Made by `scripts/bench-miss-profile` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.")
    w("")
    w(f"- Machine: {args.cpu}; versions: {args.versions}")
    w(f"- Load: unique names under miss.bench, {args.qps:,} q/s offered (dnsperf -Q, -c 4 -q 100),"
      f" {args.seconds} s per run, {args.rounds} rounds; every server forwards over DNS-over-TLS"
      f" to one Unbound 1.17 ({'stock: Nagle on' if args.upstream == 'stock' else 'TCP_NODELAY preloaded'}),"
      " one worker thread each; server on CPU 0, dnsperf and the upstream on CPU 1.")
    w("- CPU µs per miss: the server's CPU time (schedstat, all threads) over the answers of a"
      " run with nothing attached. User and kernel: that figure split by the shares of perf"
      " samples (1999 Hz, call chains) in a second run of the same load; the kernel part by the"
      " syscall the sample ran under. Syscalls and segments: per answer of the profiled run.")
    w("")
    w("| server | CPU µs/miss | user µs | kernel µs | syscalls/miss | sleeps/miss | upstream CPU µs/answer | avg latency ms | per round CPU µs |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for s in servers:
        r = rows.get(s)
        if r is None:
            w(f"| {NAMES[s]} | failed | | | | | | | |")
            continue
        w(f"| {NAMES[s]} | {fmt(r['cpu'])} | {fmt(r['user'])} | {fmt(r['kernel'])} | "
          f"{fmt(r['syscalls'], 2)} | {fmt(r['sleeps'], 2)} | {fmt(r['upstream'])} | "
          f"{fmt(r['latency_ms'], 2)} | {' '.join(fmt(c) for c in r['rounds'])} |")
    w("")
    w("Kernel µs per miss by the syscall it ran under (loopback sends include the receiver's")
    w("side of the delivery and its wake-up; epoll_wait includes going to sleep and waking):")
    w("")
    names = [s for s in servers if rows.get(s)]
    buckets = sorted({b for s in names for b in kernel_rows[s]},
                     key=lambda b: -max(kernel_rows[s].get(b, 0) for s in names))
    w("| kernel path | " + " | ".join(NAMES[s] for s in names) + " |")
    w("|---|" + "---:|" * len(names))
    for b in buckets:
        if max(kernel_rows[s].get(b, 0) for s in names) < 0.2:
            continue
        w(f"| {b} | " + " | ".join(fmt(kernel_rows[s].get(b, 0)) for s in names) + " |")
    w("")
    w("User µs per miss by library (top five per server):")
    w("")
    for s in names:
        top = sorted(user_rows[s].items(), key=lambda kv: -kv[1])[:5]
        w(f"- {NAMES[s]}: " + ", ".join(f"{d} {fmt(v)}" for d, v in top))
    w("")
    w("The upstream connections (tcpdump of the upstream's port, per answer):")
    w("")
    w("| server | segments to upstream | bytes each | pure ACKs to upstream | segments from upstream | bytes each |")
    w("|---|---:|---:|---:|---:|---:|")
    for s in names:
        c = capture_rows.get(s)
        if not c:
            w(f"| {NAMES[s]} | — | — | — | — | — |")
            continue
        to_data, to_bytes, to_acks, from_data, from_bytes = c
        w(f"| {NAMES[s]} | {fmt(to_data, 2)} | {fmt(to_bytes / to_data if to_data else None, 0)} | "
          f"{fmt(to_acks, 2)} | {fmt(from_data, 2)} | "
          f"{fmt(from_bytes / from_data if from_data else None, 0)} |")
    w("")
    if rows.get("dotproxy") and any(rows.get(s) for s in servers if s != "dotproxy"):
        d = rows["dotproxy"]
        peers = [(rows[s]["cpu"], s) for s in servers if s != "dotproxy" and rows.get(s)]
        best_cpu, best = min(peers)
        w(f"- dotproxy's CPU per miss against the best peer's ({NAMES[best]}): "
          f"{d['cpu'] / best_cpu:.2f}× (issue #14's target: at most 0.5×).")
        w(f"- dotproxy's kernel time alone is {d['kernel'] / best_cpu:.2f}× of {NAMES[best]}'s"
          f" whole CPU per miss; {NAMES[best]}'s own kernel time is {fmt(rows[best]['kernel'])} µs.")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
