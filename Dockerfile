# One image for every onedoor service: `onedoor api`, `onedoor worker`, `onedoor migrate`, ...
FROM python:3.11-slim
# matplotlib (the weekly report's charts) needs a writable config folder; the user has no home.
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 MPLCONFIGDIR=/tmp/matplotlib
WORKDIR /app
COPY pyproject.toml README.md ./
COPY cli.py settings.py worker.py logs.py codec.py ./
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY store ./store
COPY api ./api
COPY simulator ./simulator
COPY ops ./ops
COPY reports ./reports
RUN pip install . && python -m compileall -q /app && useradd --system --uid 10001 onedoor
USER onedoor
ENTRYPOINT ["onedoor"]
CMD ["--help"]
