# Stand-in for eclipse-temurin:17-jdk (the image's layers stage: jar extraction, DJL natives unpacked).
FROM consort-local/debian:bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jdk-headless ca-certificates \
 && rm -rf /var/lib/apt/lists/*
