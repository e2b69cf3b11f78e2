"""PyTorch reference for the `train_step` criterion benchmark: the same
networks as the zoo's `cnn-s` and `vgg16` (32x32x3 input, 43 classes), one training
step = forward + cross-entropy + backward + SGD (momentum 0.9), batch 128, on the CPU
with a fixed thread count (or on a GPU: `--device cuda`, the reference for
`cargo xtask bench train --device cuda`). Prints images/s per network.

    pip install torch
    python3 benches/pytorch/train_step.py [--threads 2] [--steps 10] [--device cuda]
"""
import argparse
import time

import torch
from torch import nn


def cnn_s():
    blocks = []
    c = 3
    for out in (32, 64, 128):
        blocks += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        c = out
    return nn.Sequential(*blocks, nn.Flatten(), nn.Linear(128 * 4 * 4, 256), nn.ReLU(), nn.Linear(256, 43))


def vgg16():
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    layers, c = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU()]
            c = v
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(512, 4096), nn.ReLU(), nn.Linear(4096, 43))


def images_per_second(model, steps, device, batch=128):
    model = model.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    x = torch.rand(batch, 3, 32, 32, device=device)
    y = torch.arange(batch, device=device) % 43
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    step()  # warm-up
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    return batch * steps / (time.perf_counter() - start)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--device", default="cpu")
    p.add_argument("--only", choices=["cnn-s", "vgg16"], help="one network")
    args = p.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(1)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.device}, {torch.get_num_threads()} threads, mkldnn {torch.backends.mkldnn.is_available()}")
    for name, build, steps in [("cnn-s", cnn_s, args.steps), ("vgg16", vgg16, max(3, args.steps // 3))]:
        if args.only not in (None, name):
            continue
        print(f"{name}: {images_per_second(build(), steps, device):.1f} images/s")


if __name__ == "__main__":
    main()
