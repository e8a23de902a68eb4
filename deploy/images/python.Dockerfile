# The local stand-in for python:3.11-slim on a machine that reaches no container registry (scripts/images.sh
# builds it FROM the Debian base it made with debootstrap). Debian bookworm's python3 is 3.11.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates python3 python3-venv python-is-python3 \
    && rm -rf /var/lib/apt/lists/*
CMD ["python3"]
