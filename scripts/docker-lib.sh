# shellcheck shell=bash
# Shared by the scripts/docker-* helpers (sourced, not run): installs what is missing from
# Debian's packages and starts dockerd by hand when no daemon answers (no systemd needed).
#   DOCKERD_LOG   where a dockerd started here writes its log (default /var/log/dockerd.log)

# Prints the command prefix that gives root, or nothing when we already are.
dp_sudo() { [[ $(id -u) -eq 0 ]] || echo sudo; }

# dp_need_packages PKG...: apt-get installs those not installed yet, starting no service.
dp_need_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  local sudo; sudo=$(dp_sudo)
  echo "docker: installing ${missing[*]}" >&2
  # Keep apt from starting daemons (dockerd, the registry) through init scripts: we start
  # the ones we need ourselves, on loopback.
  local policy=/usr/sbin/policy-rc.d added=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    added=1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || { ((added)) && $sudo rm -f "$policy"; return 1; }
  ((added)) && $sudo rm -f "$policy"
  return 0
}

# dp_docker_up: makes sure a Docker daemon answers on the default socket; starts one if not.
dp_docker_up() {
  dp_need_packages docker.io
  docker info >/dev/null 2>&1 && return 0
  local sudo; sudo=$(dp_sudo)
  local log=${DOCKERD_LOG:-/var/log/dockerd.log}
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    $sudo systemctl start docker >/dev/null 2>&1 || true
  fi
  if ! docker info >/dev/null 2>&1; then
    echo "docker: starting dockerd (log: $log)" >&2
    $sudo sh -c "nohup dockerd >>'$log' 2>&1 &"
    local _
    for _ in $(seq 60); do
      docker info >/dev/null 2>&1 && break
      sleep 0.5
    done
  fi
  docker info >/dev/null 2>&1 || {
    echo "docker: dockerd did not come up; last lines of $log:" >&2
    tail -n 20 "$log" >&2 || true
    return 1
  }
}

# dp_image_exists NAME:TAG
dp_image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# dp_free_port: a port in 40000-48999 that nothing listens on over TCP or UDP (the host's
# common ports, and 53, are left alone).
dp_free_port() {
  local p _
  for _ in $(seq 200); do
    p=$((40000 + RANDOM % 9000))
    [[ -z $(ss -Hltun "sport = :$p" 2>/dev/null) ]] && { echo "$p"; return 0; }
  done
  echo "docker: no free port found in 40000-48999" >&2
  return 1
}

# Where scripts/docker-run records what it started, for docker-validate, -shell and --stop.
DP_STATE_DIR=${DOTPROXY_DOCKER_STATE:-/tmp/dotproxy-docker}
DP_STATE=$DP_STATE_DIR/state

# dp_state_load: reads what docker-run started, or says how to start it.
dp_state_load() {
  [[ -f $DP_STATE ]] || { echo "docker: nothing running; start it with scripts/docker-run" >&2; return 1; }
  # shellcheck source=/dev/null
  source "$DP_STATE"
}
