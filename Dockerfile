FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY kafkette ./kafkette
COPY protocol ./protocol
COPY storage ./storage
COPY broker ./broker
RUN pip install --no-cache-dir .
# The broker runs as an unprivileged user that can write only its data directory.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin kafkette \
    && mkdir /data && chown kafkette:kafkette /data
USER kafkette
ENV KAFKETTE_HOST=0.0.0.0 \
    KAFKETTE_DATA_DIR=/data
VOLUME /data
EXPOSE 9092
CMD ["kafkette", "serve"]
