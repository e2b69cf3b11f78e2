#!/bin/bash
# The CUDA checks, on a GPU machine without Rust, from the binaries that
# `tools/cuda/build-from-wheels.sh` packed into DIR (carried there; run from the repository
# root; results under $OUT when set, else DIR/out):
#   checks: CUDA against CPU (logits and every weight gradient of each model), training-step
#           images/s of cnn-s, vgg16 and densenet121 on CUDA, PyTorch's on the same GPU, and
#           the pneumonia quick experiment trained on CUDA + `xtask verify` (~4 min);
#   paper:  the pneumonia paper profile (DenseNet-121) for one seed, cut at PAPER_S seconds.
#
#   tools/cuda/device-check.sh [checks|paper] [DIR]     # DIR default .device
set -u
stage=${1:-checks}
dir=${2:-.device}
OUT=${OUT:-$dir/out}; mkdir -p "$OUT"
log() { echo "=== $(date +%T) $*"; }
log start; nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
libs=$(for n in libcublas.so.13 libcurand.so.10 libnvrtc.so.13 libcudart.so.13; do find /opt /usr/local /usr/lib /usr/lib64 -name "$n" 2>/dev/null | head -1 | xargs -r dirname; done | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH="${libs}/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
mkdir -p /tmp/bin
for b in xtask cuda_matches_cpu; do python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],'wb'))" $dir/$b.xz /tmp/bin/$b; chmod +x /tmp/bin/$b; done
ldd /tmp/bin/xtask | grep -E 'cuda|cublas|curand|nvrtc|not found'
export EARLY_REPAIR_DATA=$(realpath $dir)/datasets
if [ "$stage" = checks ]; then
log "test: CUDA against CPU"
timeout 120 /tmp/bin/cuda_matches_cpu --nocapture 2>&1 | grep -vE "^(stack backtrace:|note: .*|failures:|)$"
for m in "cnn-s 50" "vgg16 20" "densenet121 20"; do set -- $m
  log "bench train $1 cuda"; timeout 90 /tmp/bin/xtask bench train --device cuda --model $1 --steps $2 2>&1 | tail -2
done
log "pytorch cuda"; timeout 90 python3 benches/pytorch/train_step.py --device cuda --steps 50 2>&1 | grep -v Warning
log "pneumonia quick on cuda"
timeout 150 /tmp/bin/xtask experiment pneumonia --device cuda --out runs/pneu-cuda > $OUT/pneu-quick.log 2>&1; echo "rc $?"; tail -25 $OUT/pneu-quick.log
timeout 60 /tmp/bin/xtask verify runs/pneu-cuda 2>&1 | tail -5
fi
if [ "$stage" = paper ]; then
log "pneumonia paper (DenseNet-121), one seed, on cuda"
timeout ${PAPER_S:-150} /tmp/bin/xtask experiment pneumonia --profile paper --set 'train.seeds=[1024]' --device cuda --out runs/pneu-paper-cuda > $OUT/pneu-paper.log 2>&1; echo "rc $?"; tail -20 $OUT/pneu-paper.log
fi
tar czf $OUT/runs-$stage.tar.gz --exclude='*.safetensors' runs 2>/dev/null  # results, not weights
log end
