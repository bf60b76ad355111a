# Consort image: one jar that plays api, worker or both (CONSORT_ROLE).
#
#   docker build -t consort .                          # CPU (default): PyTorch natives from Maven Central
#   docker build -t consort:cu128 --build-arg FLAVOR=cu128 .   # NVIDIA GPUs: libtorch 2.7.1+cu128
#
# Needs BuildKit (the default builder of current Docker; DOCKER_BUILDKIT=1 on Docker 20.10), which builds only the
# stages the chosen FLAVOR uses.
#
# FLAVOR=cpu   runs on eclipse-temurin:17-jre; the PyTorch CPU natives are in the jar (pytorch-native-cpu,
#              linux-x86_64) and are unpacked into DJL_CACHE_DIR while the image is built, so a container
#              never unpacks or downloads anything at start (-Dai.djl.offline=true).
# FLAVOR=cu128 runs on an NVIDIA CUDA base with a JRE; cu128 natives are not on Maven Central, so the build
#              downloads libtorch 2.7.1+cu128 (LIBTORCH_URL) to /opt/libtorch and points DJL at it
#              (PYTORCH_LIBRARY_PATH, PYTORCH_FLAVOR=cu128). DJL's JNI glue for cu128 ships in pytorch-jni
#              and is unpacked into DJL_CACHE_DIR at first use. Run it with --gpus (or the NVIDIA device plugin).
#              The alternative that stays on Maven Central is DJL 0.32.0 with pytorch-native-cu124 2.5.1 and
#              pytorch-jni 2.5.1-0.32.0 (see README), at the price of an older PyTorch.
#
# The base images are build arguments. Their defaults are the public images; where no image registry is reachable,
# docker/local-images.sh builds stand-ins with the same roles from Debian's packages, and CI builds with them:
#
#   docker build --network host --build-arg BUILD_IMAGE=consort-local/maven:17 \
#       --build-arg JDK_IMAGE=consort-local/jdk:17 --build-arg JRE_IMAGE=consort-local/jre:17 -t consort .

ARG BUILD_IMAGE=maven:3.9-eclipse-temurin-17
ARG JDK_IMAGE=eclipse-temurin:17-jdk
ARG JRE_IMAGE=eclipse-temurin:17-jre
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-base-ubuntu24.04
ARG FLAVOR=cpu
ARG LIBTORCH_URL=https://download.pytorch.org/libtorch/cu128/libtorch-cxx11-abi-shared-with-deps-2.7.1%2Bcu128.zip

# ---- build: the Spring Boot jar ------------------------------------------------------------------
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY pom.xml .
COPY src src
# Tests need PostgreSQL and minutes; .ci/run and `mvn verify` run them, the image build does not.
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q -Dmaven.test.skip=true package \
 && cp target/consort-*.jar /consort.jar

# ---- layers: the jar split into Docker layers, DJL natives unpacked ---------------------------------
FROM ${JDK_IMAGE} AS layers
ARG FLAVOR
WORKDIR /layers
COPY --from=build /consort.jar consort.jar
# Boot 3.3+/4 "tools" jar mode: dependencies/lib/*.jar, application/consort.jar (its manifest's
# Class-Path names lib/), so `java -jar consort.jar` starts it without the fat-jar launcher.
RUN java -Djarmode=tools -jar consort.jar extract --layers --destination extracted
COPY docker/ExtractDjlNatives.java /tmp/ExtractDjlNatives.java
ENV DJL_CACHE_DIR=/opt/djl
RUN mkdir -p /opt/djl \
 && if [ "$FLAVOR" = "cpu" ]; then \
        java -Dai.djl.offline=true -cp "extracted/dependencies/lib/*" /tmp/ExtractDjlNatives.java; \
    else \
        rm extracted/dependencies/lib/pytorch-native-cpu-*.jar; \
    fi

# ---- libtorch: only the cu128 flavour downloads it ---------------------------------------------------
FROM ${JDK_IMAGE} AS libtorch
ARG FLAVOR
ARG LIBTORCH_URL
RUN mkdir -p /opt/libtorch \
 && if [ "$FLAVOR" = "cu128" ]; then \
        apt-get update \
     && apt-get install -y --no-install-recommends curl unzip ca-certificates \
     && curl -fsSL "$LIBTORCH_URL" -o /tmp/libtorch.zip \
     && unzip -q /tmp/libtorch.zip -d /opt \
     && rm /tmp/libtorch.zip; \
    fi

# ---- runtime bases ------------------------------------------------------------------------------------
FROM ${JRE_IMAGE} AS runtime-cpu
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*

FROM ${CUDA_IMAGE} AS runtime-cu128
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless curl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=libtorch /opt/libtorch /opt/libtorch
ENV PYTORCH_LIBRARY_PATH=/opt/libtorch/lib \
    PYTORCH_FLAVOR=cu128 \
    PYTORCH_VERSION=2.7.1 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility

# ---- the image ----------------------------------------------------------------------------------------
FROM runtime-${FLAVOR}
ARG FLAVOR
LABEL org.opencontainers.image.title="consort" \
      org.opencontainers.image.description="Merging-as-a-service for GPT-2-family language models" \
      org.opencontainers.image.licenses="Apache-2.0"

# A fixed, unprivileged uid/gid (10001) so volume permissions and Kubernetes fsGroup are predictable.
RUN groupadd --system --gid 10001 consort \
 && useradd --system --uid 10001 --gid consort --home-dir /home/consort --create-home --shell /usr/sbin/nologin consort \
 && mkdir -p /data \
 && chown consort:consort /data

WORKDIR /app
COPY --from=layers /layers/extracted/dependencies/ ./
COPY --from=layers /layers/extracted/spring-boot-loader/ ./
COPY --from=layers /layers/extracted/snapshot-dependencies/ ./
COPY --from=layers /layers/extracted/application/ ./
# Owned by the app user: the CPU natives are already there; cu128 unpacks its JNI glue at first use.
COPY --from=layers --chown=consort:consort /opt/djl /opt/djl

ENV CONSORT_DATA_DIR=/data \
    DJL_CACHE_DIR=/opt/djl \
    DJL_OFFLINE=true \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=50 -XX:+ExitOnOutOfMemoryError"
# Blobs (filesystem store), staging, S3 cache, and the embedded PostgreSQL when no SPRING_DATASOURCE_URL is set.
VOLUME ["/data"]
EXPOSE 8080

USER consort:consort

# Readiness includes the database; MANAGEMENT_SERVER_PORT moves actuator to its own port (the Helm chart does).
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${MANAGEMENT_SERVER_PORT:-${SERVER_PORT:-8080}}/actuator/health/readiness" > /dev/null || exit 1

ENTRYPOINT ["java", "-Dai.djl.offline=true", "-jar", "/app/consort.jar"]
