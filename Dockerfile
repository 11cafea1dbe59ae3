# One image for every galley service; docker-compose.yml picks the service by command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY galley ./galley
RUN pip install . && useradd --create-home --uid 10001 galley && mkdir /data && chown galley /data

USER galley
ENV GALLEY_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8001 8002 8003 8004 8005
CMD ["python", "-m", "services.publish"]
