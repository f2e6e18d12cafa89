# spotkeeper image: the one binary for the agent (ECS daemon service, host
# network) and the controller (ECS service), with spotkeeper-watch beside it
# (the agent's small long-lived watcher, docs/agent.md). See docs/packaging.md.
#   docker build -t spotkeeper .
#   docker run --rm spotkeeper --version
#   docker run --rm --network host spotkeeper agent --sns-topic-arn arn:aws:sns:...
#   docker run --rm -p 9102:9102 spotkeeper controller --queue-url https://sqs... \
#     --metrics-listen 0.0.0.0:9102
# tests/package/dockerfile_test.py checks that the runtime packages below cover
# every library the binary links (the build environment has no Docker daemon).

# ---- builder: the project's own setup script, then the release build ----------
FROM debian:12 AS builder
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
# Only the Debian packages: no test peers (moto, Go tools) in an image build.
COPY scripts/setup.sh scripts/setup.sh
RUN SPK_SETUP_PACKAGES_ONLY=1 bash scripts/setup.sh && rm -rf /var/lib/apt/lists/*
COPY . .
# The configuration the tests run (-O2, as `cmake --preset release`), stripped below.
RUN cmake -S . -B /out -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPK_WERROR=ON \
      -DSPK_BUILD_TESTS=OFF -DSPK_BUILD_BENCH=OFF \
 && ninja -C /out spotkeeper spotkeeper-watch \
 && strip --strip-all /out/spotkeeper /out/spotkeeper-watch

# ---- runtime: the shared libraries the binary links, CA certificates, nothing else
FROM debian:12-slim
# One package per library the two binaries link directly (readelf -d NEEDED); apt
# brings their own dependencies. libc6/libstdc++6/libgcc-s1 are in the base
# image already and listed so that the list is complete.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      libc6 \
      libcpp-httplib0.11 \
      libcurl4 \
      libevent-2.1-7 \
      libfmt9 \
      libgcc-s1 \
      libpugixml1v5 \
      libspdlog1.10 \
      libssl3 \
      libstdc++6 \
      libyaml-cpp0.7 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=builder /out/spotkeeper /usr/local/bin/spotkeeper
# `spotkeeper agent` looks for it in its own directory.
COPY --from=builder /out/spotkeeper-watch /usr/local/bin/spotkeeper-watch
# Fails the build here if a library is missing.
RUN /usr/local/bin/spotkeeper --version \
 && { /usr/local/bin/spotkeeper-watch 2>&1 || true; } | grep -q 'spotkeeper-watch: started by'
# A fixed unprivileged user (the "nonroot" id of distroless images); no home, no shell use.
USER 65532:65532
ENV SPOTKEEPER_LOG_FORMAT=json
EXPOSE 9102
ENTRYPOINT ["/usr/local/bin/spotkeeper"]
CMD ["--help"]
