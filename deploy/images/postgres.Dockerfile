# The local stand-in for the official postgres:15 image, from Debian's packages: the same environment
# (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA), data directory and port, `pg_isready` on PATH.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o postgres -g postgres -m 700 /var/lib/postgresql/data \
    && install -d -o postgres -g postgres /var/run/postgresql
COPY --chmod=755 postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
# The user the Debian package created (its uid is assigned at install).
# hadolint ignore=DL3066
USER postgres
VOLUME /var/lib/postgresql/data
EXPOSE 5432
# As the official image: SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for every client to leave).
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=20 CMD ["pg_isready", "-h", "127.0.0.1"]
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
