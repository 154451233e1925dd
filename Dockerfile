# syntax=docker/dockerfile:1
# Umbral: compiled to JavaScript (tsc) in a build stage, run by plain Node; no TypeScript tooling
# and no tsx in the image.
#   docker build -t umbral .
#   docker run -p 3000:3000 -v umbral-data:/data umbral
# NODE_VERSION=22 is worth a try: oidc-provider warns that Node 20 is not a supported runtime.
ARG NODE_VERSION=20

# --- build: every dependency (TypeScript included), then `npm run build` to build/ ---------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# tsc needs no install script, so none runs here (argon2 is compiled once, in the stage below), and
# neither does `prepare`: the sources are not copied yet, and the build is the next step.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY adapters ./adapters
RUN npm run build

# --- production dependencies, with what argon2 needs to compile from source -------------------
FROM node:${NODE_VERSION}-bookworm-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/build-when-installed.js ./scripts/
# Install scripts run (argon2 must compile here); `prepare` finds no TypeScript and skips the build.
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- runtime -------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production DATA_DIR=/data PORT=3000 HOST=0.0.0.0
# glibc's allocator: two arenas, argon2id's 19 MiB blocks mapped per hash and returned at free (low
# idle RSS), in transparent huge pages where the host allows (a few hundred page faults a hash
# instead of about 4,900). Why and the figures: src/config/allocator-settings.ts, which the bench
# uses and test/config/allocator-settings.test.ts holds this line to.
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=4194304 GLIBC_TUNABLES=glibc.malloc.hugetlb=1
WORKDIR /app
# Root-owned and read-only to the `node` user: at run time Umbral writes only to DATA_DIR and /tmp.
# The layout is the repository's: build/src/config/project-root.js finds /app (package.json, which
# also makes build/ ES modules, and views/) by walking up from itself.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY --from=build /app/build ./build
COPY views ./views
COPY bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
# The embedded database (PGlite) lives here when DATABASE_URL is unset.
VOLUME /data
EXPOSE 3000
# Slim images have no curl: use Node's own fetch. /healthz is 200 only when the database answers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node is PID 1 and gets SIGTERM itself: Umbral closes idle connections at once, answers requests in
# flight with `Connection: close`, then closes the database (it gives up after 10 s, so allow a stop
# timeout a little above that, e.g. `docker stop -t 15`).
# Operator CLI: docker exec -it CONTAINER node bin/umbral.js help
# `npm start` runs the same command.
CMD ["node", "--enable-source-maps", "--max-semi-space-size=32", "build/src/main.js"]
