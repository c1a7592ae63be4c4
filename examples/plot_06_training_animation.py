"""
=====================================
Watching the neurons move in training
=====================================

With ``record_positions=True`` a :class:`~sklearn_posnet.PositionalMLPClassifier` keeps every
layer's positions after every epoch, and :func:`~sklearn_posnet.plotting.animate_training`
turns them into an animation (a GIF with Pillow, or an MP4 with ffmpeg).

The distance-weighted penalty makes a strong connection cheaper the shorter it is, so, as in the
positional-neurons paper, the first hidden layer (orange) gathers over the middle of the 8x8
digit, where the informative pixels are, and the last hidden layer (green) drifts out toward the
outputs it drives. A stronger penalty and a higher learning rate than the defaults make the
motion large enough to see within a few seconds of training; the penalty is the paper's
(``distance_reduction="layer_mean"``).
"""

# %%
import numpy as np
from sklearn.datasets import load_digits

from sklearn_posnet import PositionalMLPClassifier
from sklearn_posnet.plotting import animate_training
from sklearn_posnet.spatial import mean_connection_length, most_influenced_output

X, y = load_digits(return_X_y=True)
clf = PositionalMLPClassifier(
    hidden_layer_sizes=(32, 16),
    distance_alpha=0.1,
    distance_reduction="layer_mean",
    learning_rate_init=0.01,
    max_iter=120,
    random_state=0,
    record_positions=True,
)
clf.fit(X / 16, y)
print(f"training accuracy {clf.score(X / 16, y):.3f} after {clf.n_iter_} epochs")
print(f"{len(clf.positions_history_)} recorded frames")

# %%
# The animation
# -------------
# Every fourth epoch, with each neuron's path so far as a faint trail. Passing a path, e.g.
# ``animate_training(clf, "training.gif")``, writes the file.
animation = animate_training(clf, frame_step=4, dpi=60)

# %%
# The drift in numbers
# --------------------
# The first hidden layer's mean distance to the center of the pixel grid, and the last hidden
# layer's mean distance to the output each neuron influences most in the trained network
# (:func:`~sklearn_posnet.spatial.most_influenced_output`), at the first and last frame.

history = clf.positions_history_
targets = most_influenced_output(clf)[-1]
for name, frame in [("before training", history[0]), ("after training", history[-1])]:
    to_center = np.linalg.norm(frame[1], axis=1).mean()
    to_output = np.linalg.norm(frame[2] - frame[3][targets], axis=1).mean()
    print(
        f"{name}: first hidden layer {to_center:.2f} from the center, "
        f"last hidden layer {to_output:.2f} from its output"
    )
print(f"mean connection length, weighted by |effective weight|: {mean_connection_length(clf):.2f}")
