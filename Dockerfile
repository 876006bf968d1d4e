# syntax=docker/dockerfile:1
# paddock daemon image: Node 20 on Debian bookworm, ffmpeg from Debian, runs as the non-root
# `node` user. The ONNX models are not baked in: mount them read-only at /app/models/build
# (or point PADDOCK_DETECTOR_MODEL / PADDOCK_REID_MODEL elsewhere).
# The npm package of onnxruntime-node carries the CPU execution provider only; a CUDA image
# needs an NVIDIA CUDA base image and the provider libraries (see docs/operations.md).

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# onnxruntime-node's install script downloads GPU libraries; the CPU provider ships in the package.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    FFMPEG_PATH=/usr/bin/ffmpeg \
    PADDOCK_DATA_DIR=/var/lib/paddock \
    PADDOCK_HTTP_PORT=9464
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY machines ./machines
COPY migrations ./migrations
COPY models ./models
RUN mkdir -p /var/lib/paddock /app/models/build \
 && chown node:node /var/lib/paddock
USER node
EXPOSE 9464
VOLUME ["/var/lib/paddock"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# tini forwards SIGTERM so the daemon can drain (30 s deadline) and reaps ffmpeg children.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "bin/paddock.mjs", "run"]
