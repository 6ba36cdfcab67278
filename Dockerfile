# fluxtel container image.
#
#   docker build -t fluxtel .
#   docker run --rm --read-only -p 4318:4318 -p 8888:8888 fluxtel
#
# The build stage runs scripts/build-release, the same release build CI runs natively on every
# change (there is no Docker engine on the build machines); Tests/Deploy/test_dockerfile.py checks
# that this file keeps calling it. Builder and runtime are both Debian bookworm, so the libraries
# the binary was linked against (glibc, libstdc++, zlib, libyaml) are the ones it runs with.

# ---- build -------------------------------------------------------------------------------------
FROM swift:6.3-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends zlib1g-dev libyaml-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, in their own layer: a source change does not re-fetch them.
COPY Package.swift ./
RUN swift package --scratch-path .build-static resolve
COPY . .
RUN bin="$(./scripts/build-release)" \
 && install -D -m 0755 "$bin" /out/fluxtel \
 && strip /out/fluxtel

# ---- runtime -----------------------------------------------------------------------------------
# bookworm-slim rather than distroless/cc: distroless has libc, libstdc++ and libgcc_s but neither
# zlib nor libyaml, which the binary links dynamically (Debian's, as on the build machines).
FROM debian:bookworm-slim
# /var/lib/fluxtel is the only place the agent writes (file-log checkpoints, disk queue). In
# Kubernetes it is a mounted volume; owned by the runtime user so `docker run` volumes work too.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libyaml-0-2 zlib1g libstdc++6 libgcc-s1 \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o 65532 -g 65532 -m 0750 /var/lib/fluxtel
COPY --from=build /out/fluxtel /usr/local/bin/fluxtel
# The default configuration (= the embedded Flux defaults); mount another file over it, or pass
# --config. Kubernetes manifests mount their ConfigMap at /etc/fluxtel/fluxtel.yaml.
COPY config/fluxtel.yaml /etc/fluxtel/fluxtel.yaml
# Smoke test at build time: the binary starts with the runtime image's libraries and the shipped
# configuration is valid.
RUN ["fluxtel", "validate", "--config", "/etc/fluxtel/fluxtel.yaml"]
# Numeric, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
# Nothing else is written: the image runs with a read-only root filesystem.
VOLUME ["/var/lib/fluxtel"]
# 4318: OTLP/HTTP receiver; 8888: /metrics, /healthz, /readyz.
EXPOSE 4318 8888
ENTRYPOINT ["fluxtel"]
CMD ["--config", "/etc/fluxtel/fluxtel.yaml"]
