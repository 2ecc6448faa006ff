# supportbot: one image for the bot process. Rasa 3.6 needs Python 3.10.
FROM python:3.10-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 \
    SUPPORTBOT_MODELS_DIR=/app/models
WORKDIR /app

# Only what the bot runs: test, lint and browser tools are in requirements-dev.lock, not here.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY bot/ bot/
COPY intents/ intents/
COPY adapters/ adapters/
COPY data/ data/
COPY config.yml ./

# Train at build time: the model is cached in the image by the hash of its inputs, so a
# container starts in seconds. Run as an unprivileged user, named by its number so that a
# runtime enforcing non-root (Kubernetes' runAsNonRoot) can check it without /etc/passwd.
RUN python -m bot train && useradd --system --uid 10001 --home /app supportbot && chown -R supportbot /app
USER 10001

EXPOSE 8080
# REDIS_URL and the platform tokens come from the environment (docker run -e ...).
CMD ["python", "-m", "bot", "run", "--host", "0.0.0.0", "--port", "8080"]
