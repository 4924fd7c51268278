# Kura's container image: `kura` on Debian 12, running as a non-root user.
#   docker build -t kura:0.1.0 .
#   docker run -p 9201:9201 -v kura-data:/data kura:0.1.0 standalone --storage.path=/data
# The build stage runs the same scripts as CI (scripts/install-deps.sh, scripts/build.sh).

FROM debian:12 AS build
WORKDIR /src
# The dependency script first, alone: its layer is reused until the script changes.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN bash scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN KURA_BUILD_TYPE=Release bash scripts/build.sh \
 && install -D -m 0755 build/cmd/kura/kura /out/usr/local/bin/kura \
 && bash scripts/runtime-packages.sh build/cmd/kura/kura > /out/runtime-packages.txt

FROM debian:12-slim
COPY --from=build /out/runtime-packages.txt /tmp/runtime-packages.txt
# The shared libraries the binary loads, as Debian packages; ca-certificates for TLS peers.
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive xargs -a /tmp/runtime-packages.txt \
      apt-get install -y -q --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
 && groupadd --system --gid 10001 kura \
 && useradd --system --uid 10001 --gid kura --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin kura \
 && install -d -o kura -g kura -m 0750 /data
COPY --from=build /out/usr/local/bin/kura /usr/local/bin/kura
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# 9201: HTTP (remote write, query API, /-/ready, /metrics); 9301: a storage node's gRPC.
EXPOSE 9201 9301
ENTRYPOINT ["/usr/local/bin/kura"]
CMD ["standalone", "--storage.path=/data"]
