#!/usr/bin/env bash
# Builds local stand-ins for the public base images that the Dockerfile and docker-compose.yml name, from Debian's
# packages, for machines that reach Debian's mirror but no image registry:
#
#   consort-local/debian:bookworm   debootstrap --variant=minbase, imported with `docker import`
#   consort-local/maven:17          for maven:3.9-eclipse-temurin-17  (Dockerfile BUILD_IMAGE)
#   consort-local/jdk:17            for eclipse-temurin:17-jdk         (Dockerfile JDK_IMAGE)
#   consort-local/jre:17            for eclipse-temurin:17-jre         (Dockerfile JRE_IMAGE)
#   consort-local/postgres:15       for postgres:17                    (docker-compose.yml's database)
#
# Needs root (debootstrap) and a running Docker engine. Builds run with host networking (the engine may have no
# bridge). The machine's extra CA certificates (/usr/local/share/ca-certificates) go into the Debian base, so builds
# inside the stand-ins trust what the machine trusts. An image already present is kept; FORCE=1 rebuilds them all.
set -euo pipefail
cd "$(dirname "$0")/local"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# A client that builds with BuildKit: DOCKER=/usr/bin/docker picks Debian's where a newer client lacks buildx.
docker=${DOCKER:-docker}

present() { [ "${FORCE:-0}" != 1 ] && "$docker" image inspect "$1" > /dev/null 2>&1; }

if ! present consort-local/debian:bookworm; then
    root=$(mktemp -d)
    trap 'rm -rf "$root"' EXIT
    debootstrap --variant=minbase bookworm "$root" "$mirror" > /dev/null
    # The security archive too, as Debian's own images list it.
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
        "$mirror" "$mirror" > "$root/etc/apt/sources.list"
    # The machine's own trust anchors (an egress proxy's CA, say), so that the stand-ins reach Maven Central as the
    # machine does; ca-certificates and Java's cacerts take them in when those packages install.
    if compgen -G "/usr/local/share/ca-certificates/*.crt" > /dev/null; then
        mkdir -p "$root/usr/local/share/ca-certificates"
        cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    fi
    tar -C "$root" -c . | "$docker" import -c 'CMD ["/bin/bash"]' - consort-local/debian:bookworm > /dev/null
    rm -rf "$root"
    trap - EXIT
fi
for role in maven:17 jdk:17 jre:17 postgres:15; do
    if ! present "consort-local/$role"; then
        DOCKER_BUILDKIT=1 "$docker" build -q --network host -t "consort-local/$role" -f "${role%%:*}.Dockerfile" . > /dev/null
    fi
    echo "consort-local/$role"
done
