# Stand-in for eclipse-temurin:17-jre (the image's runtime base): Debian's OpenJDK 17 JRE, with curl for the
# image's HEALTHCHECK.
FROM consort-local/debian:bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless curl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
