# The local stand-in for the official apache/kafka:3.9.1 image: the Kafka jars our installer already
# fetched from Maven Central (the build context; scripts/images.sh assembles it), a Java runtime from
# Debian, and an entrypoint that reads the same KAFKA_* variables as the official one.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 1000 --home-dir /opt/kafka appuser \
    && install -d -o appuser /var/lib/kafka/data
COPY libs /opt/kafka/libs
COPY --chmod=755 kafka-entrypoint.sh /opt/kafka/bin/docker-entrypoint.sh
COPY log4j.properties /opt/kafka/config/log4j.properties
USER 1000
VOLUME /var/lib/kafka/data
EXPOSE 9092
HEALTHCHECK --interval=5s --retries=30 CMD ["bash", "-c", "</dev/tcp/127.0.0.1/9092"]
ENTRYPOINT ["/opt/kafka/bin/docker-entrypoint.sh"]
