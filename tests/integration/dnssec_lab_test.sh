#!/usr/bin/env bash
# Proves that scripts/dnssec-lab builds the lab it promises: each zone asked with kdig +dnssec
# through the lab's validating Unbound (the reference validator), its honest and lying
# non-validating resolvers, and a validator over the lying one. Output is TAP (meson counts each
# case). Needs root, as the lab does (its name servers listen on 127.x.y.z port 53).
#   tests/integration/dnssec_lab_test.sh DOTPROXY  (meson test -C build dnssec-lab)
# Then the same zones through dotproxy validating (issue #16) over the honest and lying ones.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
lab=$root/scripts/dnssec-lab
dotproxy=${1:-}  # build/src/dotproxy: meson gives it
readonly start_limit_s=30  # the lab's promise; it takes about 8 s

if [[ $(id -u) != 0 ]]; then
  echo "1..0 # SKIP needs root (the lab's name servers listen on port 53)"
  exit 0
fi

dir=$(mktemp -d /tmp/dotproxy-dnssec-lab-test.XXXXXX)
cleanup() {
  "$lab" stop "$dir" >/dev/null 2>&1
  rm -rf "$dir"
}
trap cleanup EXIT
# meson's timeout sends SIGTERM; the lab's servers are in sessions of their own, so stop them.
trap 'exit 1' TERM INT

n=0 failures=0
ok() {
  n=$((n + 1))
  echo "ok $n - $1"
}
not_ok() {
  n=$((n + 1))
  failures=$((failures + 1))
  echo "not ok $n - $1"
  shift
  local line
  for line in "$@"; do echo "#   $line"; done
}

started=$(date +%s)
if ! start_out=$(timeout 60 "$lab" start "$dir" 2>&1); then
  echo "Bail out! scripts/dnssec-lab start failed: $(tr '\n' ' ' <<<"$start_out")"
  exit 1
fi
elapsed=$(($(date +%s) - started))
# shellcheck source=/dev/null
. "$dir/lab.env"

# query SERVER QNAME QTYPE [kdig options]: kdig's full answer in $out. SERVER is a name from
# lab.env (HONEST, LYING, VALIDATING, VALIDATING_LYING) with optional /tls, or ADDR@PORT.
query() {
  local server=$1 qname=$2 qtype=$3 addr port tls=()
  shift 3
  case $server in
    */tls)
      server=${server%/tls}
      local a=LAB_${server}_ADDR p=LAB_${server}_TLS_PORT
      addr=${!a} port=${!p}
      tls=(+tls-ca="$LAB_CA_FILE" +tls-host="$LAB_TLS_NAME") ;;
    *@*) addr=${server%@*} port=${server#*@} ;;
    *)
      local a=LAB_${server}_ADDR p=LAB_${server}_PORT
      addr=${!a} port=${!p} ;;
  esac
  out=$(kdig "@$addr" -p "$port" +dnssec +time=5 +retry=1 "${tls[@]}" "$@" "$qname" "$qtype" 2>&1)
}

# The records of one section of $out, as "owner type rdata..." lines.
section() {
  awk -v want=";; $1 SECTION:" '
    /^;; [A-Z]+ SECTION:$/ { in_it = ($0 == want); next }
    /^$/ { in_it = 0 }
    in_it && !/^;/ { $2 = ""; $3 = ""; print }' <<<"$out" | tr -s ' \t' ' '
}

# check DESCRIPTION SERVER QNAME QTYPE [kdig options] -- EXPECTATION...
#   rcode=NAME  ad=0|1  cd=0  aa=0|1  a=ADDR (an A record in the answer)  cname=TARGET
#   rrsig=TYPE (the answer has an RRSIG covering TYPE)  norrsig (the answer has no RRSIG)
#   alg=N (the answer's RRSIGs are of algorithm N)  labels=N (the answer's A RRSIG label count)
#   auth=TYPE (the authority section holds TYPE)  ede=N (an RFC 8914 EDE of code N)
check() {
  local description=$1 server=$2 qname=$3 qtype=$4
  shift 4
  local options=()
  while (($#)) && [[ $1 != -- ]]; do options+=("$1"); shift; done
  shift
  query "$server" "$qname" "$qtype" "${options[@]}"
  local problems=() expect rcode flags answer authority
  rcode=$(sed -n 's/.*status: \([A-Z]*\).*/\1/p' <<<"$out" | head -n 1)
  flags=$(sed -n 's/^;; Flags: \([^;]*\);.*/\1/p' <<<"$out" | head -n 1)
  answer=$(section ANSWER)
  authority=$(section AUTHORITY)
  for expect in "$@"; do
    case $expect in
      rcode=*) [[ $rcode == "${expect#rcode=}" ]] \
                 || problems+=("rcode $rcode, want ${expect#*=}") ;;
      ad=1) [[ " $flags " == *" ad "* ]] || problems+=("AD not set (flags: $flags)") ;;
      ad=0) [[ " $flags " != *" ad "* ]] || problems+=("AD set (flags: $flags)") ;;
      cd=0) [[ " $flags " != *" cd "* ]] || problems+=("CD set (flags: $flags)") ;;
      aa=1) [[ " $flags " == *" aa "* ]] || problems+=("AA not set (flags: $flags)") ;;
      a=*) grep -qE "^[^ ]+ A ${expect#a=}$" <<<"$answer" \
             || problems+=("no A ${expect#a=} in the answer") ;;
      cname=*) grep -qE "^$qname\.? CNAME ${expect#cname=}$" <<<"$answer" \
                 || problems+=("no CNAME ${expect#cname=} in the answer") ;;
      rrsig=*) grep -qE "^[^ ]+ RRSIG ${expect#rrsig=} " <<<"$answer" \
                 || problems+=("no RRSIG over ${expect#rrsig=} in the answer") ;;
      norrsig) ! grep -qE "^[^ ]+ RRSIG " <<<"$answer" || problems+=("an RRSIG in the answer") ;;
      alg=*)
        local algs
        algs=$(awk '$2 == "RRSIG" {print $4}' <<<"$answer" | sort -u | tr '\n' ' ')
        [[ $algs == "${expect#alg=} " ]] \
          || problems+=("RRSIG algorithms '$algs', want ${expect#*=}") ;;
      labels=*)
        local labels
        labels=$(awk '$2 == "RRSIG" && $3 == "A" {print $5}' <<<"$answer" | head -n 1)
        [[ $labels == "${expect#labels=}" ]] \
          || problems+=("A RRSIG labels '$labels', want ${expect#*=}") ;;
      auth=*) grep -qE "^[^ ]+ ${expect#auth=} " <<<"$authority" \
                || problems+=("no ${expect#auth=} in the authority section") ;;
      ede=*) grep -qE "^;; EDE: ${expect#ede=} " <<<"$out" || problems+=("no EDE ${expect#ede=}") ;;
      *) problems+=("unknown expectation $expect") ;;
    esac
  done
  if ((${#problems[@]} == 0)); then
    ok "$description"
  else
    not_ok "$description" "${problems[@]}" "kdig said:" "${out//$'\n'/$'\n'#   }"
  fi
}

# The lab itself.
if ((elapsed < start_limit_s)); then ok "the lab starts in ${elapsed} s (< $start_limit_s)"
else not_ok "the lab starts in ${elapsed} s, not under $start_limit_s"; fi
if grep -qE '^\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+DS[[:space:]]+[0-9]+ 13 2 ' \
     "$LAB_TRUST_ANCHOR"; then ok "the trust anchor is a SHA-256 DS of the root's ECDSA key"
else not_ok "the trust anchor $LAB_TRUST_ANCHOR is not a root DS" "$(cat "$LAB_TRUST_ANCHOR")"; fi
if grep -qF -- "--upstream $LAB_HONEST_UPSTREAM --ca-file $LAB_CA_FILE" <<<"$start_out"; then
  ok "start prints the dotproxy command line"
else not_ok "start does not print the dotproxy command line" "$start_out"; fi

# Parent and child on different servers: the test. server answers the DS of a child
# authoritatively, and the children's server does not serve test. at all.
check "the test. server holds the DS of rsa.test." "$LAB_TEST_SERVER@53" rsa.test. DS +norec \
  -- rcode=NOERROR aa=1 rrsig=DS
check "the children's server does not serve test." "$LAB_CHILD_SERVER@53" test. SOA +norec \
  -- rcode=REFUSED
check "the root server holds the DS of test." "$LAB_ROOT_SERVER@53" test. DS +norec \
  -- rcode=NOERROR aa=1 rrsig=DS

# The reference validator: secure zones.
check "validating: test. is secure" VALIDATING www.test. A -- rcode=NOERROR ad=1 a=192.0.2.1
check "validating: RSASHA256 zone is secure" VALIDATING www.rsa.test. A \
  -- rcode=NOERROR ad=1 a=192.0.2.8 alg=8
check "validating: ECDSAP256SHA256 zone is secure" VALIDATING www.ecdsa.test. A \
  -- rcode=NOERROR ad=1 a=192.0.2.13 alg=13
check "validating: ED25519 zone is secure" VALIDATING www.ed25519.test. A \
  -- rcode=NOERROR ad=1 a=192.0.2.15 alg=15
check "validating: NSEC3 zone is secure" VALIDATING www.nsec3.test. A \
  -- rcode=NOERROR ad=1 a=192.0.2.33
check "validating: a signed name in the opt-out zone is secure" VALIDATING www.optout.test. A \
  -- rcode=NOERROR ad=1 a=192.0.2.34
check "validating: wildcard expansion is secure, with its no-closer-name NSEC" VALIDATING \
  anything.wild.test. A -- rcode=NOERROR ad=1 a=192.0.2.20 labels=2 auth=NSEC
check "validating: CNAME into another zone, both secure" VALIDATING www.cname.test. A \
  -- rcode=NOERROR ad=1 cname=www.ed25519.test. a=192.0.2.15
# Unbound 1.17 (val-nsec3-keysize-iterations "1024 150 2048 150 4096 150") ignores NSEC3 records
# above 150 iterations (RFC 9276 §3.2): a signed answer needs no NSEC3 and stays secure, while
# denials from iter200.test. are insecure, without EDE 27 (Unbound 1.17 does not send it).
check "validating: a signed answer in the 200-iteration zone is secure" VALIDATING \
  www.iter200.test. A -- rcode=NOERROR ad=1 a=192.0.2.36
check "validating: NODATA from the 200-iteration zone is insecure" VALIDATING \
  www.iter200.test. AAAA -- rcode=NOERROR ad=0 auth=NSEC3
check "validating: NXDOMAIN from the 200-iteration zone is insecure" VALIDATING \
  nx.iter200.test. A -- rcode=NXDOMAIN ad=0 auth=NSEC3

# Denial of existence.
check "validating: NXDOMAIN with AD in an NSEC zone" VALIDATING nx.ecdsa.test. A \
  -- rcode=NXDOMAIN ad=1 auth=NSEC
check "validating: NXDOMAIN with AD in an NSEC3 zone" VALIDATING nx.nsec3.test. A \
  -- rcode=NXDOMAIN ad=1 auth=NSEC3
check "validating: NODATA with AD in an NSEC zone" VALIDATING www.ecdsa.test. AAAA \
  -- rcode=NOERROR ad=1 auth=NSEC
# RFC 5155 §9.2: an opt-out span may hide an unsigned delegation, so it proves only insecurity.
check "validating: NXDOMAIN under an opt-out span is insecure" VALIDATING nx.optout.test. A \
  -- rcode=NXDOMAIN ad=0 auth=NSEC3

# Insecure.
check "validating: insecure.test. (no DS) is insecure" VALIDATING www.insecure.test. A \
  -- rcode=NOERROR ad=0 a=192.0.2.40
check "validating: the unsigned child under the opt-out span is insecure" VALIDATING \
  www.sub.optout.test. A -- rcode=NOERROR ad=0 a=192.0.2.35

# Bogus: SERVFAIL with Unbound's EDE, and with CD=1 the data is there (the zone is served; only
# validation rejects it).
check "validating: the record edited after signing is bogus" VALIDATING www.bogus.test. A \
  -- rcode=SERVFAIL ede=6
check "validating: the expired RRSIG is bogus" VALIDATING www.expired.test. A \
  -- rcode=SERVFAIL ede=7
check "validating: the not-yet-valid RRSIG is bogus" VALIDATING www.future.test. A \
  -- rcode=SERVFAIL ede=8
check "validating: a DS matching no key is bogus" VALIDATING www.nokey.test. A \
  -- rcode=SERVFAIL ede=9
check "validating, CD=1: the edited record is served" VALIDATING www.bogus.test. A +cdflag \
  -- rcode=NOERROR ad=0 a=192.0.2.66 rrsig=A
check "validating, CD=1: the expired zone's record is served" VALIDATING www.expired.test. A \
  +cdflag -- rcode=NOERROR ad=0 a=192.0.2.7 rrsig=A
check "validating, CD=1: the future zone's record is served" VALIDATING www.future.test. A \
  +cdflag -- rcode=NOERROR ad=0 a=192.0.2.9 rrsig=A
check "validating, CD=1: the no-key zone's record is served" VALIDATING www.nokey.test. A \
  +cdflag -- rcode=NOERROR ad=0 a=192.0.2.10 rrsig=A
check "validating over DoT: secure" VALIDATING/tls www.ed25519.test. A \
  -- rcode=NOERROR ad=1 a=192.0.2.15

# The honest upstream: no validation, but everything a validating stub needs, with DO=1.
check "honest: RRSIG with the answer" HONEST www.rsa.test. A \
  -- rcode=NOERROR ad=0 a=192.0.2.8 rrsig=A
check "honest: the root DNSKEY set with its RRSIG" HONEST . DNSKEY -- rcode=NOERROR rrsig=DNSKEY
check "honest: a DS set with its RRSIG" HONEST ecdsa.test. DS -- rcode=NOERROR rrsig=DS
check "honest: NSEC3 proof with NXDOMAIN" HONEST nx.nsec3.test. A \
  -- rcode=NXDOMAIN ad=0 auth=NSEC3 auth=RRSIG
check "honest: bogus data passed on" HONEST www.bogus.test. A -- rcode=NOERROR ad=0 a=192.0.2.66
check "honest over DoT: RRSIG with the answer" HONEST/tls www.ecdsa.test. A \
  -- rcode=NOERROR a=192.0.2.13 rrsig=A

# The liar: the forged address, unsigned; other names honest; a validator over it rejects it.
check "lying: the forged address, no RRSIG" LYING "$LAB_FORGED_NAME" A \
  -- rcode=NOERROR ad=0 "a=$LAB_FORGED_A" norrsig
check "lying over DoT: the forged address" LYING/tls "$LAB_FORGED_NAME" A \
  -- rcode=NOERROR "a=$LAB_FORGED_A" norrsig
check "lying: other names answered honestly" LYING www.ecdsa.test. A \
  -- rcode=NOERROR a=192.0.2.13 rrsig=A
# Unbound calls an answer without signatures in a signed zone "RRSIGs Missing" (EDE 10).
check "validating over the liar: the forged answer is bogus" VALIDATING_LYING "$LAB_FORGED_NAME" A \
  -- rcode=SERVFAIL ede=10
check "validating over the liar: honest names still secure" VALIDATING_LYING www.ecdsa.test. A \
  -- rcode=NOERROR ad=1 a=192.0.2.13

# dotproxy validating (issue #16), over the honest upstream with the lab's trust anchor; over
# the liar; and with --dnssec off, which must pass everything on as it came.
dp_pids=()
# start_dotproxy NAME UPSTREAM [options]: sets dp_port and dp_metrics (the /metrics port).
start_dotproxy() {
  local name=$1 upstream=$2 log="$dir/dotproxy-$1.log"
  shift 2
  "$dotproxy" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --workers 1 \
    --upstream "$upstream" --ca-file "$LAB_CA_FILE" "$@" >"$log" 2>&1 &
  dp_pids+=($!)
  dp_port="" dp_metrics=""
  for _ in $(seq 100); do
    dp_port=$(sed -n 's/.*msg="dotproxy started".* listen=127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$log")
    dp_metrics=$(sed -n 's/.*msg="dotproxy started".* metrics=127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$log")
    [[ -n $dp_port ]] && break
    sleep 0.1
  done
  [[ -n $dp_port ]] || { echo "Bail out! dotproxy ($name) did not start: $(tail -n 5 "$log")"; exit 1; }
}
stop_dotproxies() { ((${#dp_pids[@]})) && kill "${dp_pids[@]}" 2>/dev/null; wait 2>/dev/null; dp_pids=(); }
cleanup() {
  stop_dotproxies
  "$lab" stop "$dir" >/dev/null 2>&1
  rm -rf "$dir"
}

if [[ -z $dotproxy || ! -x $dotproxy ]]; then
  not_ok "no dotproxy binary given (meson passes build/src/dotproxy)"
else
  start_dotproxy validate "$LAB_HONEST_UPSTREAM" --trust-anchor "$LAB_TRUST_ANCHOR" \
    --control-socket "$dir/control.sock"
  DP=127.0.0.1@$dp_port
  metrics_port=$dp_metrics
  check "dotproxy: RSASHA256 zone is secure" "$DP" www.rsa.test. A \
    -- rcode=NOERROR ad=1 a=192.0.2.8 rrsig=A
  check "dotproxy: ECDSAP256SHA256 zone is secure" "$DP" www.ecdsa.test. A \
    -- rcode=NOERROR ad=1 a=192.0.2.13 alg=13
  check "dotproxy: ED25519 zone is secure" "$DP" www.ed25519.test. A \
    -- rcode=NOERROR ad=1 a=192.0.2.15 alg=15
  check "dotproxy: the test root's own zone is secure" "$DP" www.test. A \
    -- rcode=NOERROR ad=1 a=192.0.2.1
  check "dotproxy: NSEC3 zone is secure" "$DP" www.nsec3.test. A -- rcode=NOERROR ad=1 a=192.0.2.33
  check "dotproxy: wildcard expansion is secure" "$DP" anything.wild.test. A \
    -- rcode=NOERROR ad=1 a=192.0.2.20
  check "dotproxy: CNAME into another zone, both secure" "$DP" www.cname.test. A \
    -- rcode=NOERROR ad=1 cname=www.ed25519.test. a=192.0.2.15
  check "dotproxy: NXDOMAIN proven with NSEC" "$DP" nx.ecdsa.test. A -- rcode=NXDOMAIN ad=1
  check "dotproxy: NXDOMAIN proven with NSEC3" "$DP" nx.nsec3.test. A -- rcode=NXDOMAIN ad=1
  check "dotproxy: NODATA proven with NSEC" "$DP" www.ecdsa.test. AAAA -- rcode=NOERROR ad=1
  check "dotproxy: NXDOMAIN under an opt-out span is insecure" "$DP" nx.optout.test. A \
    -- rcode=NXDOMAIN ad=0
  check "dotproxy: an unsigned delegation (no DS) is insecure" "$DP" www.insecure.test. A \
    -- rcode=NOERROR ad=0 a=192.0.2.40
  check "dotproxy: the unsigned child under the opt-out span is insecure" "$DP" \
    www.sub.optout.test. A -- rcode=NOERROR ad=0 a=192.0.2.35
  check "dotproxy: NXDOMAIN from the 200-iteration zone is insecure (RFC 9276)" "$DP" \
    nx.iter200.test. A -- rcode=NXDOMAIN ad=0
  check "dotproxy: the record edited after signing is bogus, EDE 6" "$DP" www.bogus.test. A \
    -- rcode=SERVFAIL ede=6
  check "dotproxy: the expired RRSIG is bogus, EDE 7" "$DP" www.expired.test. A \
    -- rcode=SERVFAIL ede=7
  check "dotproxy: the not-yet-valid RRSIG is bogus, EDE 8" "$DP" www.future.test. A \
    -- rcode=SERVFAIL ede=8
  check "dotproxy: a DS matching no key is bogus, EDE 9" "$DP" www.nokey.test. A \
    -- rcode=SERVFAIL ede=9
  check "dotproxy, CD=1: the edited record is served unvalidated" "$DP" www.bogus.test. A \
    +cdflag -- rcode=NOERROR ad=0 a=192.0.2.66 rrsig=A
  check "dotproxy, CD=0 after CD=1: still bogus (never the CD=1 entry)" "$DP" www.bogus.test. A \
    -- rcode=SERVFAIL ede=6
  # kdig sets AD=1 unless told not to.
  check "dotproxy, DO=0 AD=0: no RRSIG, no AD for a client that asked for neither" "$DP" \
    www.rsa.test. A +nodnssec +noadflag -- rcode=NOERROR ad=0 cd=0 a=192.0.2.8 norrsig
  check "dotproxy, DO=0 AD=1: AD for a client that asks with AD (RFC 6840 §5.7)" "$DP" \
    www.ecdsa.test. A +nodnssec +adflag -- rcode=NOERROR ad=1 a=192.0.2.13 norrsig
  if metrics=$(curl -sf "http://127.0.0.1:$metrics_port/metrics"); then
    if grep -qE '^dotproxy_dnssec_answers_total\{status="secure"\} [1-9]' <<<"$metrics" &&
       grep -qE '^dotproxy_dnssec_failed_total\{ede="dnssec_bogus"\} [1-9]' <<<"$metrics" &&
       grep -qE '^dotproxy_dnssec_fetches_total [1-9]' <<<"$metrics" &&
       grep -qE '^dotproxy_dnssec_verifications_total\{algorithm="RSASHA256"\} [1-9]' <<<"$metrics" &&
       grep -qE '^dotproxy_dnssec_verifications_total\{algorithm="ED25519"\} [1-9]' <<<"$metrics" &&
       grep -qE '^dotproxy_dnssec_verifications_total\{algorithm="ECDSAP256SHA256"\} [1-9]' <<<"$metrics"; then
      ok "dotproxy: /metrics counts secure and bogus answers, key fetches, checks by algorithm"
    else
      not_ok "dotproxy: /metrics lacks the DNSSEC counts" "$(grep dnssec <<<"$metrics")"
    fi
  else
    not_ok "dotproxy: /metrics did not answer"
  fi

  # ctl flush-zone forgets the zone's keys with its answers: the next answer fetches them again.
  fetches() { curl -sf "http://127.0.0.1:$metrics_port/metrics" |
                sed -n 's/^dotproxy_dnssec_fetches_total //p'; }
  fetches_before=$(fetches)
  flushed=$("$dotproxy" ctl --socket "$dir/control.sock" flush-zone ecdsa.test 2>&1) || true
  if [[ $flushed =~ ^removed\ [0-9]+\ \(and\ [1-9][0-9]*\ DNSSEC\ key\ cache\ entries\)$ ]]; then
    ok "dotproxy ctl flush-zone: the zone's DNSSEC keys are forgotten too"
  else not_ok "dotproxy ctl flush-zone: no key cache entries removed" "$flushed"; fi
  check "dotproxy after flush-zone: the zone is secure again" "$DP" www.ecdsa.test. A \
    -- rcode=NOERROR ad=1 a=192.0.2.13
  fetches_after=$(fetches)
  if [[ -n $fetches_before && -n $fetches_after ]] && ((fetches_after > fetches_before)); then
    ok "dotproxy after flush-zone: the zone's keys were fetched afresh"
  else not_ok "dotproxy after flush-zone: no key fetched (before $fetches_before, after $fetches_after)"; fi

  start_dotproxy lying "$LAB_LYING_UPSTREAM" --trust-anchor "$LAB_TRUST_ANCHOR"
  # The forged record comes without signatures: "RRSIGs Missing" (EDE 10), as Unbound says.
  check "dotproxy over the liar: the forged answer is SERVFAIL, EDE 10" "127.0.0.1@$dp_port" \
    "$LAB_FORGED_NAME" A -- rcode=SERVFAIL ede=10
  check "dotproxy over the liar: honest names still secure" "127.0.0.1@$dp_port" www.ecdsa.test. A \
    -- rcode=NOERROR ad=1 a=192.0.2.13

  start_dotproxy permissive "$LAB_LYING_UPSTREAM" --trust-anchor "$LAB_TRUST_ANCHOR" \
    --dnssec permissive
  check "dotproxy --dnssec permissive: the forged answer is served, without AD" \
    "127.0.0.1@$dp_port" "$LAB_FORGED_NAME" A -- rcode=NOERROR ad=0 "a=$LAB_FORGED_A"
  if grep -q 'msg="DNSSEC validation failed"' "$dir/dotproxy-permissive.log"; then
    ok "dotproxy --dnssec permissive: logs the bogus answer"
  else not_ok "dotproxy --dnssec permissive: no log line for the bogus answer"; fi

  start_dotproxy off "$LAB_HONEST_UPSTREAM" --dnssec off
  check "dotproxy --dnssec off: bogus data passed on as it came" "127.0.0.1@$dp_port" \
    www.bogus.test. A -- rcode=NOERROR ad=0 a=192.0.2.66

  start_dotproxy nta "$LAB_HONEST_UPSTREAM" --trust-anchor "$LAB_TRUST_ANCHOR" \
    --insecure-domain bogus.test
  check "dotproxy --insecure-domain: the bogus zone is served, insecure" "127.0.0.1@$dp_port" \
    www.bogus.test. A -- rcode=NOERROR ad=0 a=192.0.2.66
  check "dotproxy --insecure-domain: other zones still secure" "127.0.0.1@$dp_port" \
    www.rsa.test. A -- rcode=NOERROR ad=1 a=192.0.2.8
  stop_dotproxies
fi

# stop ends every process start began.
pids=$(awk '{print $2}' "$dir/pids")
"$lab" stop "$dir" >/dev/null 2>&1
left=()
for pid in $pids; do kill -0 "$pid" 2>/dev/null && left+=("$pid"); done
if ((${#left[@]} == 0)) && ! "$lab" status "$dir" >/dev/null 2>&1 && [[ ! -e $dir/lab.env ]]; then
  ok "stop ends every server"
else not_ok "stop left processes ${left[*]:-} or the status/lab.env"; fi

echo "1..$n"
((failures == 0))
