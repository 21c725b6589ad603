# One image for every onedoor service: `onedoor api`, `onedoor worker`, `onedoor setup`, ...
# Built from the package itself: the whole project folder (less .dockerignore) is made into the
# wheel pyproject.toml declares, and that wheel is what the image installs, so a module added to the
# project is in the image without anyone listing it. tests/ops/test_image.py replays the build stage
# (its paths stay relative to its WORKDIR for that) and starts every service from the wheel.

FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
RUN python -m pip wheel --no-deps --wheel-dir wheels .

FROM python:3.11-slim
# matplotlib (the weekly report's charts) needs a writable config folder; the user has no home.
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 MPLCONFIGDIR=/tmp/matplotlib \
    ONEDOOR_DATA_DIR=/var/lib/onedoor
# Noto CJK: the weekly report's charts and the case's papers are written in Chinese. Pango and
# HarfBuzz's subsetter: WeasyPrint lays out the papers' PDF with them (its own Debian recipe).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/wheels/ /tmp/wheels/
# pip compiles what it installs: the worker's workflow sandbox re-imports modules, and the user
# cannot write bytecode caches into site-packages. The data folder holds what one service hands
# another (the demo's simulator keys, through a compose volume that takes this folder's owner).
RUN pip install /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels \
    && useradd --system --uid 10001 onedoor \
    && install -d -o onedoor -m 0700 /var/lib/onedoor
USER onedoor
WORKDIR /var/lib/onedoor
ENTRYPOINT ["onedoor"]
CMD ["--help"]
