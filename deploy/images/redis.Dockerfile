# The local stand-in for the official redis:7 image, from Debian's package: `redis-server ARGS` as the
# command, data in /data, and, as in the official image, no protected mode (the network is the boundary).
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o redis -g redis /data
COPY --chmod=755 redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
# The user the Debian package created (its uid is assigned at install).
# hadolint ignore=DL3066
USER redis
VOLUME /data
EXPOSE 6379
HEALTHCHECK --interval=5s --retries=20 CMD ["redis-cli", "ping"]
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
