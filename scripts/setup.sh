#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: a project virtualenv with the CPU build of torch and msiqa
# installed in editable mode. With --browser, also Debian's chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
[ "${1:-}" = "--browser" ] && want_browser=1

if [ ! -x .venv/bin/python ]; then
  python3.11 -m venv .venv 2>/dev/null || python3 -m venv .venv
fi
stamp=.venv/.setup-stamp
sig=$(sha256sum pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
# The test set-up (--browser, as `make test` runs it) adds the optional stores and engines the tests
# cover: .[milvus] (pymilvus, milvus-lite) and .[ray]. A plain `make app` stays lean.
extras=test
[ "$want_browser" = 1 ] && extras=test,milvus,ray
# Up to date when the stamp matches this set-up, or a test set-up (a superset) was already installed.
if [ ! -f "$stamp" ] || ! grep -qxE "$sig-($extras|test,milvus,ray)" "$stamp"; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  # The CPU build first: letting pip choose torch freely pulls a multi-GB CUDA build.
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
  .venv/bin/python -m pip install --quiet -e ".[$extras]"
  echo "$sig-$extras" > "$stamp"
fi

if [ "$want_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
