#!/bin/bash
# Builds `xtask` and the CUDA-against-CPU test (`crates/repair-zoo/tests/cuda_matches_cpu.rs`)
# with `--features cuda` on a machine that has no CUDA toolkit and no GPU, from NVIDIA's pip
# wheels: CUDA 13.0, which matches the lent H200 machines' driver (580). Those machines have
# no Rust toolchain and no registry access, so the binaries are built here and carried there;
# `tools/cuda/device-check.sh` runs them. Needs pip, gcc, unzip, xz and a filled
# `~/.cargo/registry` (any earlier `cargo build`).
#
#   tools/cuda/build-from-wheels.sh [OUT_DIR]      # default .device (git ignores it)
#
# Cold on a 2-core machine: ~37 min for xtask (two thirds of it nvcc/ptxas on candle-kernels'
# quantised-matmul kernels) and ~11 more for the test. Output: OUT_DIR/xtask.xz and
# OUT_DIR/cuda_matches_cpu.xz (stripped, xz: ~7 MB each), OUT_DIR/datasets/pneumonia.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(realpath -m "${1:-.device}")
work=${CUDA_WHEELS_DIR:-/tmp/cuda-wheels}
target=${CUDA_TARGET_DIR:-/tmp/target-cuda}
mkdir -p "$out" "$work/whl"

# 1. nvcc, cicc, headers and the libraries candle links, from the wheels.
platforms="--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64"
for p in "nvidia-cuda-nvcc==13.0.*" "nvidia-nvvm==13.0.*" "nvidia-cuda-crt==13.0.*" "nvidia-cuda-runtime==13.0.*" \
    "nvidia-cuda-nvrtc==13.0.*" "nvidia-cublas==13.0.*" "nvidia-curand" "nvidia-cuda-cccl==13.0.*"; do
    pip download -q --no-deps --only-binary=:all: --python-version 3.12 $platforms -d "$work/whl" "$p"
done
for w in "$work"/whl/*.whl; do unzip -q -o "$w" -d "$work/x"; done
cu="$work/x/nvidia/cu13"

# 2. A toolkit-shaped folder: bin, include, nvvm, lib64 with unversioned names, and a stub
#    libcuda.so (the driver is only on the GPU machine) defining every driver function
#    cudarc declares, with the real library's soname so the binary loads the real one there.
root="$work/root"
mkdir -p "$root/lib64/stubs"
ln -sfn "$cu/bin" "$root/bin"; ln -sfn "$cu/include" "$root/include"; ln -sfn "$cu/nvvm" "$root/nvvm"
for f in "$cu"/lib/*.so.*; do b=$(basename "$f"); ln -sf "$f" "$root/lib64/$b"; ln -sf "$f" "$root/lib64/${b%%.so.*}.so"; done
cudarc=$(grep -A1 '^name = "cudarc"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
bindings=$(ls -d "$HOME"/.cargo/registry/src/*/cudarc-"$cudarc"/src/driver/sys/mod.rs | head -1)
grep -oE 'pub unsafe fn cu[A-Za-z0-9_]+' "$bindings" | awk '{print "void " $4 "(void){}"}' | sort -u > "$work/cuda-stub.c"
gcc -shared -fPIC -o "$root/lib64/stubs/libcuda.so" -Wl,-soname,libcuda.so.1 "$work/cuda-stub.c"

# 3. Build for the H200 (compute capability 9.0).
export CUDA_PATH="$root" CUDA_HOME="$root" PATH="$root/bin:$PATH" CUDA_COMPUTE_CAP=90 CARGO_TARGET_DIR="$target"
export LD_LIBRARY_PATH="$root/lib64:$root/lib64/stubs:${LD_LIBRARY_PATH:-}"
cargo build --release -p xtask --features cuda
test_bin=$(cargo test --release -p repair-zoo --features cuda --test cuda_matches_cpu --no-run --message-format=json \
    | sed -n 's/.*"executable":"\([^"]*cuda_matches_cpu[^"]*\)".*/\1/p' | tail -1)

# 4. Pack.
for pair in "$target/release/xtask:xtask" "$test_bin:cuda_matches_cpu"; do
    cp "${pair%%:*}" "$out/${pair##*:}"; strip "$out/${pair##*:}"; xz -T0 -6 -f "$out/${pair##*:}"
done
rm -rf "$out/datasets/pneumonia"
mkdir -p "$out/datasets"
cp -r --no-preserve=mode "${EARLY_REPAIR_DATA:?set EARLY_REPAIR_DATA to the datasets folder}/pneumonia" "$out/datasets/"
echo "built: $(ls "$out")"
