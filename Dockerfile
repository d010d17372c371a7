# One image for the API and every worker kind. torch from PyPI brings its CUDA runtime, so the
# same image serves `tuneforge worker --device cuda` on a GPU host (with the NVIDIA container toolkit).
FROM python:3.11-slim
WORKDIR /app
# Candidate code runs under bubblewrap as a fresh unprivileged user (setpriv, util-linux).
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap util-linux \
    && rm -rf /var/lib/apt/lists/*
COPY . .
RUN pip install --no-cache-dir torch==2.13.0 && pip install --no-cache-dir '.[worker]'
# Measured tuning spaces for replay devices are mounted at /spaces (see docker-compose.yml).
ENV TUNEFORGE_SPACES_DIR=/spaces
EXPOSE 8000
CMD ["tuneforge", "serve", "--host", "0.0.0.0", "--port", "8000"]
