# dotproxy image: built on debian:bookworm, run on debian:bookworm-slim with only the runtime
# libraries and CA certificates, as a non-root user (uid 10053). Configure it with -e DOTPROXY_...
# (every option has one, see the README's option table) or arguments after the image name:
#   docker build -t dotproxy .
#   docker run -p 53:53/udp -p 53:53/tcp dotproxy
#   docker run -p 53:53/udp -p 53:53/tcp -e DOTPROXY_UPSTREAM=9.9.9.9#dns.quad9.net dotproxy
# Without Docker Hub, scripts/docker-base makes both base images from the Debian mirror.

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ meson ninja-build pkg-config \
      libldns-dev libssl-dev libgnutls28-dev libevent-dev libtomlplusplus-dev libcli11-dev \
      prometheus-cpp-dev libfstrm-dev libprotobuf-c-dev protobuf-c-compiler \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the release build reads (tests/ and bench/ are behind options that are off), so
# that editing scripts or docs does not recompile. Add here anything meson.build comes to read.
COPY meson.build meson_options.txt ./
COPY src src
# --build-arg JOBS=1 keeps a shared machine usable (default: ninja's choice).
ARG JOBS=
RUN meson setup /build --buildtype=release -Dtests=false \
 && ninja -C /build ${JOBS:+-j$JOBS} \
 && strip --strip-unneeded -o /dotproxy /build/src/dotproxy \
 && /dotproxy --version

FROM debian:bookworm-slim
# The shared libraries build/src/dotproxy links (ldd), by package; evhttp is libevent-extra.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libldns3 libssl3 libgnutls30 libtomlplusplus3 libprometheus-cpp-core1.0 \
      libevent-core-2.1-7 libevent-extra-2.1-7 libevent-pthreads-2.1-7 libfstrm0 libprotobuf-c1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10053 dotproxy \
 && useradd --system --uid 10053 --gid dotproxy --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin dotproxy
COPY --from=build /dotproxy /usr/local/bin/dotproxy
COPY scripts/docker/healthcheck /usr/local/bin/dotproxy-healthcheck
# Fail the build, not the first run, if a library is missing.
RUN ldd /usr/local/bin/dotproxy | { ! grep 'not found'; } && /usr/local/bin/dotproxy --version

# 0.0.0.0 only: a container's network may have no IPv6. Add [::]:53 where it has
# (-e DOTPROXY_LISTEN=0.0.0.0:53,[::]:53). Inside a container's network namespace a non-root
# user may bind port 53 (Docker sets net.ipv4.ip_unprivileged_port_start=0 there); with
# --network=host the host's rule applies, so listen on a port above 1023 or add
# --cap-add NET_BIND_SERVICE there.
ENV DOTPROXY_LISTEN=0.0.0.0:53 \
    DOTPROXY_METRICS_LISTEN=0.0.0.0:9153
EXPOSE 53/udp 53/tcp 9153/tcp
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10053:10053
# GET /healthz on the metrics port (DOTPROXY_METRICS_LISTEN), with bash's /dev/tcp: no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/dotproxy-healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/dotproxy"]
