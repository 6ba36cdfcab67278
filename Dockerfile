# fluxtel container image. The builder step runs exactly the release build that CI runs natively
# (see scripts/build-release): keep the two in sync.
FROM swift:6.3-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends zlib1g-dev libyaml-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN swift build -c release --static-swift-stdlib --product fluxtel \
 && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/fluxtel" /out/fluxtel \
 && strip /out/fluxtel

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates zlib1g libyaml-0-2 libstdc++6 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/fluxtel /usr/local/bin/fluxtel
COPY config/fluxtel.yaml /etc/fluxtel/fluxtel.yaml
USER 65532:65532
VOLUME ["/var/lib/fluxtel"]
EXPOSE 4318 8888
ENTRYPOINT ["fluxtel"]
CMD ["--config", "/etc/fluxtel/fluxtel.yaml"]
