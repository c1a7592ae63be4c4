"""Test accuracy of the default ParticleNetworkClassifier on the digits, one fit per seed.

The spread over ``random_state`` that the estimator's docstring example quotes: the same data,
split and parameters as that example, ``random_state`` 0 to 15 by default.

Usage::

    python benchmarks/particle_digits_seeds.py            # writes results/particle_digits_seeds.md
    python benchmarks/particle_digits_seeds.py --seeds 0 1 --output /tmp/seeds.md
"""

from __future__ import annotations

import argparse
import statistics
import sys
import warnings
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def main(argv=None) -> None:
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split

    from sklearn_posnet import ParticleNetworkClassifier

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(16)))
    parser.add_argument("--output", default=None, help="Markdown file to write")
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    rows = []
    for seed in args.seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = ParticleNetworkClassifier(random_state=seed).fit(X_train, y_train)
        rows.append((seed, clf.score(X_test, y_test), clf.n_iter_))
        print(f"random_state={seed}: test accuracy {rows[-1][1]:.3f}, {clf.n_iter_} epochs")
    scores = [score for _, score, _ in rows]
    command = "python benchmarks/particle_digits_seeds.py"
    if args.seeds != list(range(16)):
        command += " --seeds " + " ".join(map(str, args.seeds))
    lines = [
        "# particle_digits_seeds",
        "",
        f"Command: `{command}`",
        "",
        f"Test accuracy from {min(scores):.3f} to {max(scores):.3f}, mean "
        f"{statistics.mean(scores):.3f}, over {len(scores)} values of random_state.",
        "",
        "| random_state | test accuracy | epochs |",
        "|---|---|---|",
        *(f"| {seed} | {score:.3f} | {epochs} |" for seed, score, epochs in rows),
    ]
    output = Path(args.output or REPO_ROOT / "benchmarks" / "results" / "particle_digits_seeds.md")
    output.write_text("\n".join(lines) + "\n")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
