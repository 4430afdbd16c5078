# syntax=docker/dockerfile:1
# ridge in one image: `ridge serve` (the results service with the browser tool built in) and
# `ridge run` on GPU nodes (Vulkan through the NVIDIA Container Toolkit; see deploy/k8s).
#
#   docker build -t ridge --build-arg RIDGE_GIT_COMMIT=$(git rev-parse --short=12 HEAD) .
#   docker run -p 8080:8080 -v ridge-data:/var/lib/ridge ridge
#   docker run --gpus all -e NVIDIA_DRIVER_CAPABILITIES=all ridge run --suite quick

# The toolchain of rust-toolchain.toml (tests/deploy checks that the two agree).
ARG RUST_VERSION=1.95.0

FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
RUN rustup target add wasm32-unknown-unknown
COPY . .
ARG RIDGE_GIT_COMMIT=unknown
# The browser bundle first (ridge-core as WebAssembly, wasm-bindgen as a library: no other
# tools), then ridge with the bundle built in. The caches make a rebuild after a change minutes,
# not the first build's quarter of an hour.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo xtask web \
 && RIDGE_GIT_COMMIT=${RIDGE_GIT_COMMIT} cargo build --release --locked -p ridge-bench --bin ridge --features embed-web \
 && install -D target/release/ridge /out/ridge \
 && /out/ridge --version

FROM debian:bookworm-slim
# The Vulkan loader and the GL/EGL libraries NVIDIA's Vulkan driver links against (the toolkit
# mounts the driver itself when NVIDIA_DRIVER_CAPABILITIES includes graphics), and CA
# certificates for uploads over HTTPS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libvulkan1 libegl1 libgl1 libglx0 libgles2 libopengl0 libglvnd0 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ridge /usr/local/bin/ridge
RUN useradd --system --uid 10001 --home-dir /var/lib/ridge --create-home ridge
USER 10001
WORKDIR /var/lib/ridge
ENV NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics
EXPOSE 8080
ENTRYPOINT ["ridge"]
CMD ["serve", "--addr", "0.0.0.0:8080", "--db", "/var/lib/ridge/ridge.db"]
