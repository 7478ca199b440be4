# The multi-arch pause image for users with Docker/buildx. Build the binaries first
# (`cargo xtask dist`), then for example:
#   docker buildx build --platform linux/amd64,linux/arm64,linux/arm/v7,linux/ppc64le,linux/s390x,linux/riscv64,linux/386,linux/loong64 -t REG/pause:TAG --push .
# `cargo xtask dist` also writes the same image, reproducibly and without any engine, as
# target/dist/pause-oci.tar (see README).

# One stage per binary we ship, named by platform. The final stage picks the one the target
# platform names, so a platform we have no binary for (linux/arm/v6, linux/mips64le, ...) fails
# the build instead of shipping a binary that cannot run there. `arm` is armv7 hard-float.
ARG TARGETARCH
ARG TARGETVARIANT=""

FROM scratch AS linux-amd64
COPY target/dist/pause-linux-amd64 /pause

FROM scratch AS linux-arm64
COPY target/dist/pause-linux-arm64 /pause

FROM scratch AS linux-armv7
COPY target/dist/pause-linux-arm /pause

FROM scratch AS linux-ppc64le
COPY target/dist/pause-linux-ppc64le /pause

FROM scratch AS linux-s390x
COPY target/dist/pause-linux-s390x /pause

FROM scratch AS linux-riscv64
COPY target/dist/pause-linux-riscv64 /pause

FROM scratch AS linux-386
COPY target/dist/pause-linux-386 /pause

FROM scratch AS linux-loong64
COPY target/dist/pause-linux-loong64 /pause

FROM linux-${TARGETARCH}${TARGETVARIANT}
# As upstream: nothing in pause needs root.
USER 65535:65535
ENTRYPOINT ["/pause"]
