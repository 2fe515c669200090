# The connector image, following Airbyte's conventions for connector images: the entrypoint in
# AIRBYTE_ENTRYPOINT and ENTRYPOINT, io.airbyte.name / io.airbyte.version labels, and a non-root user.
# Built from the project's own artifact, the tarball 'mvn package' makes:
#
#   mvn -B package && docker build -t source-postgres:dev .
#   docker run --rm source-postgres:dev spec
#   docker run --rm -v "$PWD/secrets:/secrets:ro" source-postgres:dev check --config /secrets/config.json
#
# src/test/java/io/sourcepostgres/DockerfileTest.java checks these conventions, so they cannot rot unseen.
FROM eclipse-temurin:17-jre

# The label must match the version in pom.xml (DockerfileTest checks it).
LABEL io.airbyte.name=source-postgres
LABEL io.airbyte.version=0.1.0-SNAPSHOT

# A fixed non-root user: the connector needs no privileges, only its own temporary files.
RUN groupadd --system --gid 1000 airbyte \
 && useradd --system --uid 1000 --gid airbyte --home-dir /app --shell /usr/sbin/nologin airbyte

COPY target/source-postgres-*.tar.gz /tmp/dist/
RUN mkdir -p /app \
 && tar -xzf /tmp/dist/source-postgres-*.tar.gz -C /app --strip-components=1 \
 && rm -rf /tmp/dist \
 && chown -R root:root /app && chmod -R a+rX /app

USER airbyte
WORKDIR /app

ENV AIRBYTE_ENTRYPOINT="/app/bin/source-postgres"
ENTRYPOINT ["/app/bin/source-postgres"]
