# A stand-in for python:3.12-slim where no registry is reachable (make images-test): Debian
# bookworm's own Python (3.11, not the images' 3.12: docs/twin.md) in a venv that is first on PATH,
# so the apps' Dockerfiles run `python` and `pip` unchanged. Built FROM the `docker import` of an
# `mmdebstrap --variant=minbase` root file system; this machine's CA bundle is copied in for pip.
ARG DEBIAN_ROOT=ml-proto-debian-root:bookworm
FROM ${DEBIAN_ROOT}
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN python3 -m venv /opt/python
ENV PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    LANG=C.UTF-8
CMD ["python3"]
