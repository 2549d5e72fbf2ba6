"""Lints the deployment files: the systemd unit, the Kubernetes manifests and the TOML in them
(with the cluster DNS routes and the kube-dns-upstream Service), the Dockerfile and the docker
scripts. Each check prints PASS/FAIL; a tool that is missing is
reported as SKIP and its check left out (never counted as passed). Used by scripts/check-deploy.
   python3 scripts/check_deploy.py [--junit FILE]"""
import ipaddress
import os
import re
import shutil
import subprocess
import sys
import tempfile
from xml.sax.saxutils import escape, quoteattr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNIT = "scripts/systemd/dotproxy.service"
MANIFESTS = ["scripts/kubernetes/sidecar.yaml", "scripts/kubernetes/daemonset.yaml"]
# TOML keys of the ops work landing in parallel (issue #5), not yet in the README's table.
PENDING_KEYS = {"metrics_listen", "user", "log_format", "query_log"}
# What a dotproxy that is the pods' only resolver must send to the cluster DNS: the cluster's
# names and the reverse zones of its addresses (as NodeLocal DNSCache does).
CLUSTER_ZONES = ("cluster.local", "in-addr.arpa", "ip6.arpa")

results = []  # (name, failure message or None)


def check(name, ok, why=""):
    results.append((name, None if ok else (why or "failed")))
    print(("PASS  " if ok else "FAIL  ") + name + ("" if ok else ": " + (why or "failed")))
    return ok


def skip(what):
    print("SKIP  " + what)


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def readme_toml_keys():
    """The TOML key column of the README's option table."""
    keys = set()
    for line in read("README.md").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 4 and cells[1].startswith("`--"):
            keys.add(cells[3].strip("`"))
    keys.discard("—")
    return keys


def dotproxy_binary():
    for d in ("build", "build-verify"):
        path = os.path.join(ROOT, d, "src", "dotproxy")
        if os.access(path, os.X_OK):
            return path
    return None


def check_unit():
    text = read(UNIT)
    service = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            k, v = line.split("=", 1)
            service.setdefault(k.strip(), []).append(v.strip())
    want = {
        "Type": "notify", "DynamicUser": "yes", "NoNewPrivileges": "yes",
        "AmbientCapabilities": "CAP_NET_BIND_SERVICE",
        "CapabilityBoundingSet": "CAP_NET_BIND_SERVICE", "ProtectSystem": "strict",
        "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "RestrictNamespaces": "yes",
        "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes", "Restart": "on-failure",
    }
    bad = [f"{k}={v}" for k, v in want.items() if v not in service.get(k, [])]
    check("unit: hardening directives", not bad, "missing " + ", ".join(bad))
    check("unit: SystemCallFilter=@system-service",
          "@system-service" in service.get("SystemCallFilter", []))
    check("unit: ExecReload sends SIGHUP to $MAINPID",
          any("kill -HUP $MAINPID" in v for v in service.get("ExecReload", [])))
    check("unit: config in /etc/dotproxy/dotproxy.toml",
          all("--config /etc/dotproxy/dotproxy.toml" in v for v in service.get("ExecStart", [""])))

    analyze = shutil.which("systemd-analyze")
    if not analyze:
        skip("unit: systemd-analyze verify (systemd-analyze not installed)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        # A known-good unit first: if that fails, the tool cannot run here, which says
        # nothing about ours.
        probe = os.path.join(tmp, "probe.service")
        with open(probe, "w") as f:
            f.write("[Service]\nExecStart=/bin/true\n")
        if subprocess.run([analyze, "verify", probe], capture_output=True).returncode != 0:
            skip("unit: systemd-analyze verify (it cannot verify even a trivial unit here)")
            return
        # The binary is not installed in /usr/local/bin here: verify against a stand-in.
        stand_in = dotproxy_binary() or "/bin/true"
        unit = os.path.join(tmp, "dotproxy.service")
        with open(unit, "w") as f:
            f.write(text.replace("/usr/local/bin/dotproxy", stand_in))
        r = subprocess.run([analyze, "verify", unit], capture_output=True, text=True)
        out = (r.stdout + r.stderr).strip()
        check("unit: systemd-analyze verify", r.returncode == 0 and not out, out)


def check_toml(label, body, known, binary):
    """A dotproxy.toml: parses, only known keys, and dotproxy --check-config when given.
    Returns the parsed file, or None."""
    import tomllib
    try:
        parsed = tomllib.loads(body)
    except tomllib.TOMLDecodeError as e:
        check(f"{label} parses as TOML", False, str(e))
        return None
    unknown = sorted(set(parsed) - known)
    check(f"{label} keys are dotproxy options", not unknown, "unknown " + ", ".join(unknown))
    if not binary:
        return parsed
    with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
        f.write(body)
        f.flush()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOTPROXY_")}
        r = subprocess.run([binary, "--config", f.name, "--check-config"],
                           capture_output=True, text=True, env=env)
    check(f"{label} passes dotproxy --check-config", r.returncode == 0,
          (r.stdout + r.stderr).strip())
    return parsed


def containers(doc):
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    return spec, spec.get("containers", []) + spec.get("initContainers", [])


def server_address(spec):
    """(ADDR, PORT) of an "ADDR[@PORT][#AUTH_NAME]" server; port 53 when not given (plain)."""
    addr, _, port = spec.split("#", 1)[0].partition("@")
    return addr.strip("[]"), int(port) if port.isdigit() else (53 if not port else port)


def is_ip(text):
    try:
        ipaddress.ip_address(text)
        return True
    except (ValueError, TypeError):
        return False


def check_routes(path, docs, tomls):
    """A dotproxy that is its pods' only resolver (a DaemonSet as kubelet's clusterDNS, or a
    sidecar with dnsPolicy None) must forward the cluster's zones over tcp to IP literals; the
    DaemonSet's go to the kube-dns-upstream Service, which must select the cluster DNS pods and
    not dotproxy's. tomls: {(namespace, ConfigMap name): parsed dotproxy.toml}."""
    services = {(d["metadata"].get("namespace"), d["metadata"].get("name")): d
                for d in docs if d.get("kind") == "Service"}
    for doc in docs:
        kind = doc.get("kind")
        if kind not in ("Deployment", "DaemonSet"):
            continue
        spec, _ = containers(doc)
        if kind == "Deployment" and spec.get("dnsPolicy") != "None":
            continue
        n = f"{path}: {kind}"
        ns = doc["metadata"].get("namespace")
        mounted = [v["configMap"].get("name") for v in spec.get("volumes", []) if "configMap" in v]
        found = [tomls[(ns, m)] for m in mounted if (ns, m) in tomls]
        if not check(f"{n} mounts a dotproxy.toml ConfigMap of its own namespace ({ns or 'none'})",
                     len(found) == 1, f"ConfigMaps mounted: {mounted}, found here: {len(found)}"):
            continue
        zones = {str(z.get("zone", "")).rstrip(".").lower(): z
                 for z in found[0].get("forward_zone", []) if isinstance(z, dict)}
        bad = [f"{name}: {s}" for name, z in zones.items() if z.get("transport") in ("tcp", "udp")
               for s in z.get("servers", []) if not is_ip(server_address(s)[0])]
        check(f"{n} plain forward zones name IP literals", not bad, "not an IP: " + ", ".join(bad))
        wrong = [z for z in CLUSTER_ZONES if zones.get(z, {}).get("transport") != "tcp" or
                 not zones[z].get("servers") or "max_negative_ttl" not in zones[z]]
        check(f"{n} forwards {', '.join(CLUSTER_ZONES)} over tcp, max_negative_ttl set",
              not wrong, "missing, not tcp, no servers or no max_negative_ttl: " + ", ".join(wrong))
        if kind != "DaemonSet":
            continue
        svc = services.get(("kube-system", "kube-dns-upstream"))
        if not check(f"{path}: Service kube-system/kube-dns-upstream", svc is not None, "missing"):
            continue
        sspec = svc.get("spec", {})
        ports = {(p.get("port"), p.get("protocol", "TCP"), p.get("targetPort", p.get("port")))
                 for p in sspec.get("ports", [])}
        check(f"{path}: Service kube-dns-upstream selects k8s-app: kube-dns, 53/UDP and 53/TCP",
              sspec.get("selector") == {"k8s-app": "kube-dns"} and
              {(53, "UDP", 53), (53, "TCP", 53)} <= ports,
              f"selector {sspec.get('selector')}, ports {sorted(ports, key=str)}")
        ip = sspec.get("clusterIP")
        check(f"{path}: Service kube-dns-upstream has a fixed clusterIP", is_ip(ip),
              f"clusterIP {ip!r}: forward zone servers are IP literals, so it must be set")
        servers = {server_address(s) for z in CLUSTER_ZONES for s in zones.get(z, {}).get("servers", [])}
        check(f"{n} cluster zones go to kube-dns-upstream's clusterIP, port 53",
              servers == {(ip, 53)}, f"servers {sorted(servers, key=str)}, clusterIP {ip}")
        labels = doc.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
        selector = sspec.get("selector") or {}
        check(f"{n} pods are not selected by kube-dns-upstream (no loop)",
              not selector or any(labels.get(k) != v for k, v in selector.items()),
              f"pod labels {labels} match {selector}")


def check_manifests():
    try:
        import yaml
    except ImportError:
        skip("kubernetes: YAML checks (python3 has no yaml module: apt-get install python3-yaml)")
        return
    try:
        import tomllib
    except ImportError:
        tomllib = None
        skip("kubernetes: ConfigMap TOML checks (python3 older than 3.11, no tomllib)")
    known = readme_toml_keys() | PENDING_KEYS
    binary = dotproxy_binary()
    binary_knows_metrics = False
    if binary:
        help_text = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
        binary_knows_metrics = "--metrics-listen" in help_text
    if tomllib:
        check_toml("scripts/systemd/dotproxy.toml", read("scripts/systemd/dotproxy.toml"), known,
                   binary if binary_knows_metrics else None)
    for path in MANIFESTS:
        try:
            docs = [d for d in yaml.safe_load_all(read(path)) if d]
        except yaml.YAMLError as e:
            check(f"{path}: parses", False, str(e).replace("\n", " "))
            continue
        if not check(f"{path}: parses ({', '.join(d.get('kind', '?') for d in docs)})",
                     all("apiVersion" in d and "kind" in d and "metadata" in d for d in docs),
                     "a document lacks apiVersion, kind or metadata"):
            continue
        tomls = {}
        for doc in docs:
            kind = doc.get("kind")
            if kind == "ConfigMap" and tomllib:
                for key, body in doc.get("data", {}).items():
                    if key.endswith(".toml"):
                        parsed = check_toml(f"{path}: {key}", body, known,
                                            binary if binary_knows_metrics else None)
                        if parsed is not None:
                            meta = doc["metadata"]
                            tomls[(meta.get("namespace"), meta.get("name"))] = parsed
            if kind not in ("Deployment", "DaemonSet"):
                continue
            spec, cs = containers(doc)
            dp = [c for c in cs if c.get("name") == "dotproxy"]
            if not check(f"{path}: {kind} has a dotproxy container", len(dp) == 1):
                continue
            for c in cs:
                n = f"{path}: {kind}/{c.get('name')}"
                sc = c.get("securityContext", {})
                caps = sc.get("capabilities", {})
                check(f"{n} securityContext", sc.get("readOnlyRootFilesystem") is True and
                      sc.get("allowPrivilegeEscalation") is False and
                      caps.get("drop") == ["ALL"], "wants readOnlyRootFilesystem, "
                      "allowPrivilegeEscalation false, capabilities drop ALL")
                res = c.get("resources", {})
                check(f"{n} resources", "requests" in res and "limits" in res,
                      "wants requests and limits")
            c = dp[0]
            n = f"{path}: {kind}/dotproxy"
            probes = {p: c.get(p, {}).get("httpGet", {}) for p in ("readinessProbe", "livenessProbe")}
            ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
            def port(probe):
                v = probe.get("port")
                return ports.get(v, v)
            check(f"{n} probes on /readyz and /healthz, port 9153",
                  probes["readinessProbe"].get("path") == "/readyz" and
                  probes["livenessProbe"].get("path") == "/healthz" and
                  port(probes["readinessProbe"]) == 9153 and port(probes["livenessProbe"]) == 9153)
            non_root = (c.get("securityContext", {}).get("runAsNonRoot",
                        spec.get("securityContext", {}).get("runAsNonRoot")) is True)
            drops_root = "--user" in c.get("args", [])
            check(f"{n} runs as non-root (runAsNonRoot, or root only until --user)",
                  non_root or drops_root)
            if kind == "Deployment":
                dns = spec.get("dnsConfig", {})
                check(f"{n} pod resolves through the sidecar",
                      spec.get("dnsPolicy") == "None" and dns.get("nameservers") == ["127.0.0.1"])
            else:
                check(f"{n} on the host network", spec.get("hostNetwork") is True)
        if tomllib:
            check_routes(path, docs, tomls)
    if binary and not binary_knows_metrics:
        skip(f"dotproxy.toml files: dotproxy --check-config ({binary} has no "
             "--metrics-listen yet)")
    elif not binary:
        skip("dotproxy.toml files: dotproxy --check-config (no built dotproxy)")


def check_dockerfile():
    text = read("Dockerfile")
    lines = [l for l in re.sub(r"\\\n", " ", text).splitlines() if l.strip() and not l.lstrip().startswith("#")]
    froms = [l.split()[1] for l in lines if l.upper().startswith("FROM ")]
    check("Dockerfile: build on debian:bookworm, run on debian:bookworm-slim",
          froms == ["debian:bookworm", "debian:bookworm-slim"], f"FROM {froms}")
    runtime = lines[max(i for i, l in enumerate(lines) if l.upper().startswith("FROM ")):]
    users = [l.split()[1] for l in runtime if l.upper().startswith("USER ")]
    check("Dockerfile: final stage runs as a non-root user",
          bool(users) and users[-1].split(":")[0] not in ("0", "root"), f"USER {users}")
    check("Dockerfile: EXPOSE 53/udp 53/tcp 9153/tcp",
          any(set(l.split()[1:]) >= {"53/udp", "53/tcp", "9153/tcp"} for l in runtime
              if l.upper().startswith("EXPOSE ")))
    check("Dockerfile: HEALTHCHECK", any(l.upper().startswith("HEALTHCHECK ") for l in runtime))
    installs = [l for l in lines if "apt-get install" in l]
    check("Dockerfile: apt-get install -y --no-install-recommends, lists removed",
          installs and all("--no-install-recommends" in l and " -y" in l and
                           "rm -rf /var/lib/apt/lists" in l for l in installs))
    check("Dockerfile: no curl or wget in the runtime image",
          not re.search(r"\b(curl|wget)\b", " ".join(l for l in runtime if l.upper().startswith("RUN "))))
    check("Dockerfile: ENTRYPOINT in exec form",
          any(re.match(r"ENTRYPOINT\s+\[", l) for l in runtime))
    check("Dockerfile: no ADD (COPY only), no :latest base",
          not any(l.upper().startswith("ADD ") for l in lines) and
          not any(f.endswith(":latest") or ":" not in f for f in froms))
    missing = []
    for l in lines:
        m = re.match(r"COPY\s+(?!--from)(.*)", l)
        if m:
            for src in m.group(1).split()[:-1]:
                if not src.startswith("--") and not os.path.exists(os.path.join(ROOT, src)):
                    missing.append(src)
    check("Dockerfile: COPY sources exist", not missing, "missing " + ", ".join(missing))
    ignore = read(".dockerignore").split()
    check(".dockerignore: leaves out .git and build dirs",
          {".git", "build", "build-*"} <= set(ignore))


def check_scripts():
    scripts = sorted(f"scripts/{f}" for f in os.listdir(os.path.join(ROOT, "scripts"))
                     if f.startswith("docker-") or f in ("check-deploy", "install-host-resolver"))
    scripts.append("scripts/docker/healthcheck")
    for s in scripts:
        text = read(s)
        lib = s.endswith(".sh")
        ok = lib or ("set -euo pipefail" in text or "set -uo pipefail" in text)
        r = subprocess.run(["bash", "-n", os.path.join(ROOT, s)], capture_output=True, text=True)
        check(f"{s}: bash -n" + ("" if lib else ", strict mode"),
              ok and r.returncode == 0, r.stderr.strip() or "no set -euo pipefail")
    sc = shutil.which("shellcheck")
    if not sc:
        skip("scripts: shellcheck (not installed)")
        return
    r = subprocess.run([sc, "-x", "-S", "warning", *scripts], cwd=ROOT, capture_output=True, text=True)
    check("scripts: shellcheck -S warning", r.returncode == 0, r.stdout.strip())


def write_junit(path):
    failed = sum(1 for _, why in results if why)
    with open(path, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="utf-8"?>\n')
        f.write(f'<testsuites><testsuite name="check-deploy" tests="{len(results)}" failures="{failed}">\n')
        for name, why in results:
            f.write(f'<testcase classname="check-deploy" name={quoteattr(name)}>')
            if why:
                f.write(f'<failure message={quoteattr(why[:200])}>{escape(why)}</failure>')
            f.write("</testcase>\n")
        f.write("</testsuite></testsuites>\n")


def main(argv):
    junit = argv[argv.index("--junit") + 1] if "--junit" in argv else None
    check_unit()
    check_manifests()
    check_dockerfile()
    check_scripts()
    failed = sum(1 for _, why in results if why)
    print(f"check-deploy: {len(results) - failed} passed, {failed} failed")
    if junit:
        write_junit(junit)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
