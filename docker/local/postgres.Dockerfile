# Stand-in for the official postgres image as docker-compose.yml uses it: Debian's PostgreSQL 15, the same
# POSTGRES_DB / POSTGRES_USER / POSTGRES_PASSWORD variables, data in /var/lib/postgresql/data (a volume), and
# pg_isready for the health check.
FROM consort-local/debian:bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
VOLUME ["/var/lib/postgresql/data"]
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
