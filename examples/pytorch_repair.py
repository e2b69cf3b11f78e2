"""Repair a PyTorch model's last layer with early_repair (a worked example).

Trains a small CNN on PneumoniaMNIST (real chest X-rays, 28 × 28 grey; class 1 =
pneumonia) for a couple of epochs, takes the penultimate activations of a held-out
repair set with a forward hook on the last layer, repairs class 1 with the study's
Arachne FL + PSO, loads the new last layer back into the model and prints the test
accuracy and Acc_1 before and after.

    pip install ./python torch numpy
    python3 examples/pytorch_repair.py --data ../shared/datasets/pneumonia

Every random choice is seeded (`--seed`); torch runs on the CPU with its default
threads. The split follows the study's: a seeded 30 % of the training images is the
repair set, never trained on; the test set is only for the report.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import early_repair as er

SIDE = 28


def load(data: Path, part: str):
    images = np.fromfile(data / f"{part}_{SIDE}x{SIDE}_gray.u8", dtype=np.uint8)
    labels = np.fromfile(data / f"{part}_labels.u8", dtype=np.uint8).astype(np.int64)
    if images.size != labels.size * SIDE * SIDE:
        raise SystemExit(f"{data}/{part}: {images.size} pixels for {labels.size} labels")
    x = torch.from_numpy(images.reshape(-1, 1, SIDE, SIDE).astype(np.float32) / 255.0)
    return x, torch.from_numpy(labels)


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(),
        )
        self.head = nn.Linear(64, 2)  # the layer to repair

    def forward(self, x):
        return self.head(self.features(x))


@torch.no_grad()
def predict_with_activations(model, x):
    """Predictions and the head's inputs (a forward hook on the last layer)."""
    seen = []
    hook = model.head.register_forward_hook(lambda _m, inputs, _out: seen.append(inputs[0]))
    logits = torch.cat([model(x[k : k + 512]) for k in range(0, len(x), 512)])
    hook.remove()
    return logits.argmax(1), torch.cat(seen)


def accuracies(model, x, y, cls):
    predicted, _ = predict_with_activations(model, x)
    right = predicted == y
    return right.float().mean().item(), right[y == cls].float().mean().item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/datasets/pneumonia"))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--class", dest="cls", type=int, default=1)
    ap.add_argument("--positives", type=int, default=200)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    x_all, y_all = load(args.data, "train")
    x_test, y_test = load(args.data, "test")
    order = rng.permutation(len(y_all))
    cut = int(0.3 * len(order))
    repair_idx, train_idx = order[:cut], order[cut:]
    x_train, y_train = x_all[train_idx], y_all[train_idx]
    x_repair, y_repair = x_all[repair_idx], y_all[repair_idx]

    model = SmallCnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    started = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.from_numpy(rng.permutation(len(y_train)))
        for k in range(0, len(perm), 64):
            batch = perm[k : k + 64]
            opt.zero_grad()
            nn.functional.cross_entropy(model(x_train[batch]), y_train[batch]).backward()
            opt.step()
    model.eval()
    print(f"trained {args.epochs} epochs on {len(y_train)} images in {time.perf_counter() - started:.1f} s")

    before = accuracies(model, x_test, y_test, args.cls)
    predicted, act = predict_with_activations(model, x_repair)
    wrong = (predicted != y_repair) & (y_repair == args.cls)
    right = np.flatnonzero((predicted == y_repair).numpy())
    pos = rng.choice(right, size=min(args.positives, len(right)), replace=False)
    print(f"repair set: {len(y_repair)} images, {int(wrong.sum())} negatives of class {args.cls}, {len(pos)} positives")
    if not wrong.any():
        print("nothing to repair")
        return

    result = er.repair(
        act[wrong].numpy(), y_repair[wrong].numpy(),
        act[pos].numpy(), y_repair[pos].numpy(),
        model.head.weight.detach().numpy(), model.head.bias.detach().numpy(),
        layout="torch", seed=args.seed,
    )
    print(
        f"repair: {len(result.sites)} sites, fitness {result.fitness_before:.3f} -> {result.fitness_after:.3f}, "
        f"RR {result.rr:.3f} BR {result.br:.3f} on the repair sets, {result.evaluations} evaluations, {result.time_ms:.1f} ms"
    )
    with torch.no_grad():
        model.head.weight.copy_(torch.from_numpy(result.weight))
        model.head.bias.copy_(torch.from_numpy(result.bias))
    after = accuracies(model, x_test, y_test, args.cls)
    print(f"test accuracy: {before[0]:.4f} -> {after[0]:.4f}")
    print(f"test Acc_{args.cls}:     {before[1]:.4f} -> {after[1]:.4f}")


if __name__ == "__main__":
    main()
