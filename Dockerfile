# syntax=docker/dockerfile:1
#
# sealgate container image.
#   docker build -t ghcr.io/sealgate/sealgate:dev --build-arg SEALGATE_COMMIT="$(git rev-parse HEAD)" .
#
# Stage 1 builds a release binary with the Swift runtime linked statically
# (--static-swift-stdlib), so the runtime stage needs only the C libraries the
# binary links dynamically: OpenSSL 3 and nghttp2 (plus glibc from the base).
# Tests/DeploymentTests checks this list against `ldd` of the built binary.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl-dev libnghttp2-dev zlib1g-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Manifest first so dependency resolution is cached across source edits.
# (Package.resolved is not committed; `swift package resolve` pins what the manifest allows.)
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
# Plugins/BuildStamp stamps the binary with its git commit; the build context has no .git, so pass it:
#   docker build --build-arg SEALGATE_COMMIT="$(git rev-parse HEAD)" ...   (sealgate version then names it; else "unknown")
COPY Plugins ./Plugins
ARG SEALGATE_COMMIT=unknown
# SwiftPM checks that every target declared in Package.swift has its folder,
# test targets included, so the Tests tree is needed even though only the
# `sealgate` product is built.
COPY Tests ./Tests
# SwiftPM resource bundles (sealgate_*.resources, e.g. the Sigstore trusted root)
# must sit beside the executable, so they are copied to /out with it.
RUN swift build -c release --static-swift-stdlib --product sealgate \
 && mkdir -p /out \
 && bin="$(swift build -c release --static-swift-stdlib --show-bin-path)" \
 && cp "$bin/sealgate" /out/ \
 && strip /out/sealgate \
 && cp -R "$bin"/sealgate_*.resources /out/

FROM ${RUNTIME_IMAGE} AS runtime
# Runtime libraries the binary links (ldd): libssl3 (libssl.so.3, libcrypto.so.3),
# libnghttp2-14 (libnghttp2.so.14), zlib1g (libz.so.1, for the static Foundation), and the C++ runtime the
# statically linked Swift runtime still needs dynamically (libstdc++6, libgcc-s1;
# already in the slim image, listed so the dependency is explicit);
# ca-certificates for TLS to registries.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 libnghttp2-14 zlib1g libstdc++6 libgcc-s1 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# Non-root user 65532 (the distroless "nonroot" uid, so runAsUser in manifests matches).
# Its home holds an optional registry pull secret at /home/sealgate/.docker/config.json.
RUN groupadd --gid 65532 sealgate \
 && useradd --uid 65532 --gid 65532 --home-dir /home/sealgate --create-home --shell /usr/sbin/nologin sealgate
COPY --from=build /out/ /usr/local/bin/
# Sample policies as defaults: `sealgate serve` without --policy loads ./policies,
# and WORKDIR makes that /etc/sealgate/policies. Kubernetes manifests pass --policy
# pointing at the mounted ConfigMap instead.
COPY policies/ /etc/sealgate/policies/
WORKDIR /etc/sealgate
# Read-only root filesystem: the only writable place is /tmp (an emptyDir in Kubernetes).
ENV HOME=/home/sealgate \
    TMPDIR=/tmp
USER 65532:65532
EXPOSE 8443
# No HEALTHCHECK: Kubernetes probes /healthz and /readyz over HTTPS instead.
ENTRYPOINT ["sealgate", "serve"]
