# Stand-in for maven:3.9-eclipse-temurin-17 (the image's build stage): Debian's Maven and OpenJDK 17, which reach
# Maven Central as the public image does.
FROM consort-local/debian:bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends maven openjdk-17-jdk-headless ca-certificates \
 && rm -rf /var/lib/apt/lists/*
