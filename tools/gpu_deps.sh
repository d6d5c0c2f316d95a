#!/usr/bin/env bash
# gpu_deps.sh — packs the build dependencies the GPU machine lacks into .gpu-deps/
# (ignored by git), so the tree can be built there with tests/cuda/run_on_gpu.sh.
# The device machine of this workplace has nvcc, cmake and gcc but no jansson /
# pcre2 / utf8proc / yaml / OpenBLAS headers and no pkg-config. From this machine's
# Debian packages we copy: the headers, static jansson/pcre2/utf8proc/yaml (small),
# the OpenBLAS shared library with its gfortran runtime (its static archive is
# larger), pkg-config itself, and .pc files whose prefix is the folder they sit in.
# oneDNN (--matmul bf16 on the CPU) is left out: ~100 MB, and optional in the build.
#   tools/gpu_deps.sh            writes ./.gpu-deps (about 40 MB)
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu-deps
multi=/usr/lib/x86_64-linux-gnu
rm -rf "$out"
mkdir -p "$out/include" "$out/lib/pkgconfig" "$out/bin"

for h in jansson.h jansson_config.h pcre2.h utf8proc.h yaml.h; do
    cp "/usr/include/$h" "$out/include/"
done
blas_inc=$(pkg-config --variable=includedir openblas)
cp "$blas_inc"/*.h "$out/include/"

for a in libjansson.a libpcre2-8.a libutf8proc.a libyaml.a; do cp "$multi/$a" "$out/lib/"; done
cp "$(readlink -f "$multi/libopenblas.so.0")" "$out/lib/libopenblas.so.0"
ln -s libopenblas.so.0 "$out/lib/libopenblas.so"
cp "$multi/libgfortran.so.5" "$multi/libquadmath.so.0" "$out/lib/"

cp /usr/bin/pkg-config "$out/bin/pkg-config"
cp "$multi/libpkgconf.so.3" "$out/lib/"

pc() { # name libs cflags version
    cat >"$out/lib/pkgconfig/$1.pc" <<EOF
prefix=\${pcfiledir}/../..
libdir=\${prefix}/lib
includedir=\${prefix}/include
Name: $1
Description: carried copy of this machine's Debian package (tools/gpu_deps.sh)
Version: $4
Libs: -L\${libdir} $2
Cflags: -I\${includedir} $3
EOF
}
pc openblas "-lopenblas" "" "$(pkg-config --modversion openblas)"
pc jansson "-ljansson" "" "$(pkg-config --modversion jansson)"
pc libpcre2-8 "-lpcre2-8" "" "$(pkg-config --modversion libpcre2-8)"
pc libutf8proc "-lutf8proc" "-DUTF8PROC_EXPORTS" "$(pkg-config --modversion libutf8proc)"
pc yaml-0.1 "-lyaml" "" "$(pkg-config --modversion yaml-0.1)"
du -sh "$out"
