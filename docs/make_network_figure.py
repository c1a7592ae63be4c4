"""Draw the picture of a trained network shown by the README and the docs' front page.

Run from the repository root (about 10 seconds)::

    python docs/make_network_figure.py

It writes ``docs/_static/network.png``.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

from sklearn_posnet import PositionalMLPClassifier
from sklearn_posnet.plotting import plot_network

OUTPUT = Path(__file__).parent / "_static" / "network.png"


def main() -> None:
    X, y = load_digits(return_X_y=True)
    clf = PositionalMLPClassifier(
        hidden_layer_sizes=(32, 16),
        distance_alpha=0.1,
        learning_rate_init=0.01,
        max_iter=120,
        random_state=0,
    ).fit(X / 16, y)
    fig, ax = plt.subplots(figsize=(6, 6))
    plot_network(clf, ax=ax, top_k=80, legend=True)
    ax.set_title("PositionalMLPClassifier (64-32-16-10) trained on the digits")
    ax.set_axis_off()
    fig.tight_layout()
    OUTPUT.parent.mkdir(exist_ok=True)
    fig.savefig(OUTPUT, dpi=100)
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
