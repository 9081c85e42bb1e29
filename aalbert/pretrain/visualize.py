"""Figure of one utterance for tensorboard: masked input, prediction, target."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless: training runs without a display
import matplotlib.pyplot as plt  # noqa: E402
from torch import Tensor  # noqa: E402


def spectrogram_figure(masked_input: Tensor, prediction: Tensor, target: Tensor, title: str = ""):
    """Three stacked panels of (T, D) tensors, time on the x axis."""
    fig, axes = plt.subplots(3, 1, figsize=(10, 7), constrained_layout=True)
    for ax, data, name in zip(axes, (masked_input, prediction, target), ("masked input", "prediction", "target")):
        im = ax.imshow(data.detach().float().cpu().numpy().T, origin="lower", aspect="auto", interpolation="none")
        ax.set_title(f"{name} {title}".strip())
        fig.colorbar(im, ax=ax)
    return fig
