FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY protocol ./protocol
COPY storage ./storage
COPY broker ./broker
RUN pip install --no-cache-dir .
ENV KAFKETTE_HOST=0.0.0.0 \
    KAFKETTE_DATA_DIR=/data
VOLUME /data
EXPOSE 9092
CMD ["kafkette", "serve"]
