# The workbench's one image: the web server, the Celery workers and beat run from it with
# different commands (docker-compose.yml). Base images come from the bank's registry
# mirror (pass --build-arg PYTHON_IMAGE=registry.bank.internal/python:3.11-slim).
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    WORKBENCH_VAR_DIR=/var/lib/workbench DJANGO_SETTINGS_MODULE=workbench.settings
# fonts-noto-cjk: Chinese in generated documents; libpq is not needed (psycopg's binary wheel).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY . .
# Static files are collected into the image (served by WhiteNoise with far-future caching).
RUN DJANGO_SECRET_KEY=build-only DJANGO_DEBUG=0 python manage.py collectstatic --noinput >/dev/null \
    && DJANGO_SECRET_KEY=build-only python manage.py compilemessages -l zh_Hans --ignore=.venv >/dev/null \
    && useradd --system --home /app workbench && mkdir -p /var/lib/workbench && chown workbench /var/lib/workbench
USER workbench
EXPOSE 8000
CMD ["gunicorn", "workbench.wsgi"]
