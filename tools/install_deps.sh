#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, when missing.
# Used by `make deps` (and so by `make test` and `make demo`) and by .ci/run.
#   tools/install_deps.sh          the build and `make test`
#   tools/install_deps.sh fuzz     also clang, its libFuzzer runtime and libomp (`make fuzz`)
set -euo pipefail

# Debian package -> how we check that it is there
declare -A CHECK=(
  [build-essential]="command -v gcc"
  [cmake]="command -v cmake"
  [pkg-config]="command -v pkg-config"
  [libopenblas-dev]="pkg-config --exists openblas"
  [libpcre2-dev]="pkg-config --exists libpcre2-8"
  [libjansson-dev]="pkg-config --exists jansson"
  [libutf8proc-dev]="pkg-config --exists libutf8proc"
  [libyaml-dev]="pkg-config --exists yaml-0.1" # train --config FILE.yaml
  [libdnnl-dev]="test -f /usr/include/dnnl.h" # oneDNN (no .pc file): bf16 GEMMs of train --matmul bf16
  [python3-torch]="/usr/bin/python3 -c 'import torch'"
  [python3-numpy]="/usr/bin/python3 -c 'import numpy'"
  [python3-jinja2]="/usr/bin/python3 -c 'import jinja2'" # HF's chat-template engine: tools/hf_chat_render.py
  [nodejs]="command -v node"
  [npm]="command -v npm"
)
if [ "${1:-}" = fuzz ]; then
  CHECK[clang]="command -v clang"
  CHECK[libclang-rt-dev]="test -f \"\$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a)\""
  CHECK[libomp-dev]="echo '#include <omp.h>' | clang -fopenmp -x c -c - -o /dev/null"
elif [ -n "${1:-}" ]; then
  echo "usage: tools/install_deps.sh [fuzz]" >&2
  exit 2
fi

missing=()
for pkg in "${!CHECK[@]}"; do
  if ! bash -c "${CHECK[$pkg]}" >/dev/null 2>&1; then missing+=("$pkg"); fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install_deps: missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install_deps: not root and no sudo; run: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
