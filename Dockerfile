# lokic's container image. Built on Debian bookworm with the README's script
# (scripts/deps.sh --build installs the build packages, then the Release
# build of scripts/run.sh), run on bookworm-slim with only the runtime
# libraries, as the non-root user lokic (uid 10001), data on the volume /loki.
#
#   docker build -t lokic:0.1.0 .
#   docker run -p 3100:3100 -v lokic-data:/loki lokic:0.1.0
#
# The Helm chart (charts/lokic) runs this image with its own config mounted
# at /etc/lokic/config.yaml.

FROM debian:bookworm AS build
WORKDIR /src
# the packages first, in a layer of their own that a change to the source
# does not rebuild
COPY scripts/deps.sh scripts/
RUN scripts/deps.sh --build
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLOKIC_TESTS=OFF \
 && cmake --build build -j"$(nproc)" --target lokic \
 && install -D -m 0755 -s build/lokic /out/usr/bin/lokic

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libmicrohttpd12 libprotobuf-c1 libsnappy1v5 liblmdb0 libyaml-0-2 libjansson4 \
      libxxhash0 zlib1g libzstd1 liblz4-1 libre2-9 libstdc++6 libgcc-s1 libcurl4 libssl3 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 lokic \
 && useradd --system --uid 10001 --gid lokic --home-dir /loki --no-create-home \
      --shell /usr/sbin/nologin lokic \
 && mkdir -p /etc/lokic /loki \
 && chown lokic:lokic /loki \
 && printf '%s\n' \
      '# lokic in its container image: one tenant ("fake"), port 3100,' \
      '# everything under the volume /loki. Mount another file here to change it.' \
      'auth_enabled: false' \
      'server:' \
      '  http_listen_port: 3100' \
      '  log_level: info' \
      'common:' \
      '  path_prefix: /loki' \
      'ingester:' \
      '  wal:' \
      '    enabled: true' \
      'limits_config:' \
      '  reject_old_samples: true' \
      '  reject_old_samples_max_age: 168h' \
      > /etc/lokic/config.yaml
COPY --from=build /out/usr/bin/lokic /usr/bin/lokic
USER 10001:10001
WORKDIR /loki
VOLUME /loki
EXPOSE 3100
ENTRYPOINT ["/usr/bin/lokic"]
CMD ["-config.file=/etc/lokic/config.yaml"]
