# syntax=docker/dockerfile:1
# The service with Debian's Chromium (for whatsapp-web.js), running as a non-root user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV PUPPETEER_SKIP_DOWNLOAD=true
COPY package.json package-lock.json .puppeteerrc.cjs ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-noto-color-emoji tini \
 && rm -rf /var/lib/apt/lists/*
# /app (the code) stays root's; everything the service writes goes under /data, the volume, which
# the `node` user owns: logins, the WhatsApp Web page cache, the embedded PostgreSQL's files.
WORKDIR /app
ENV NODE_ENV=production \
    PUPPETEER_SKIP_DOWNLOAD=true \
    CHROME_PATH=/usr/bin/chromium \
    HOST=0.0.0.0 \
    PORT=3000 \
    WWEBJS_DATA_DIR=/data/wwebjs \
    WWEBJS_WEB_CACHE=local:/data/wwebjs-cache \
    EMBEDDED_PG_DATA_DIR=/data/postgres
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY public ./public
COPY examples ./examples
RUN mkdir -p /data/wwebjs /data/wwebjs-cache /data/postgres && chown -R node:node /data
USER node
EXPOSE 3000
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# tini reaps Chromium's child processes and forwards SIGTERM for a clean shutdown.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
