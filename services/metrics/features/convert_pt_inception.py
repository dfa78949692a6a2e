"""Convert pytorch-fid's FID Inception weights to the tfjs weights our inception-v3 loads.

    python3 convert_pt_inception.py pt_inception-2015-12-05-6726825d.pth OUT_DIR

Writes OUT_DIR/model.json (a tfjs weights manifest) and OUT_DIR/weights.bin (float32 LE). Needs
torch (only to unpickle the state dict) and numpy. See README.md for the name mapping and upload.
"""
import json
import os
import sys

import numpy as np

BN = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_variance"}


def convert(state):
    out = []
    for key, value in state.items():
        arr = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        parts = key.split(".")
        if parts[0] in ("fc", "AuxLogits") or parts[-1] == "num_batches_tracked":
            continue
        layer, kind, param = ".".join(parts[:-2]), parts[-2], parts[-1]
        if kind == "conv" and param == "weight":
            out.append((f"{layer}.conv/kernel", np.transpose(arr, (2, 3, 1, 0))))  # OIHW -> HWIO
        elif kind == "bn" and param in BN:
            out.append((f"{layer}.bn/{BN[param]}", arr))
        else:
            raise SystemExit(f"unexpected weight {key} {arr.shape}")
    return out


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    import torch  # noqa: PLC0415  (only needed here)

    state = torch.load(sys.argv[1], map_location="cpu")
    weights = convert(state)
    os.makedirs(sys.argv[2], exist_ok=True)
    specs = []
    with open(os.path.join(sys.argv[2], "weights.bin"), "wb") as f:
        for name, arr in weights:
            f.write(np.ascontiguousarray(arr, dtype="<f4").tobytes())
            specs.append({"name": name, "shape": list(arr.shape), "dtype": "float32"})
    manifest = {"format": "layers-model", "generatedBy": "convert_pt_inception.py",
                "weightsManifest": [{"paths": ["weights.bin"], "weights": specs}]}
    with open(os.path.join(sys.argv[2], "model.json"), "w") as f:
        json.dump(manifest, f)
    print(f"wrote {len(specs)} tensors")


if __name__ == "__main__":
    main()
