"""Warnings that name the user's line, however many of the package's frames stand between.

A warning raised deep in a fit (``fit``, its decorators, ``_fit``, a helper) should point at the
line that called ``fit``, as scikit-learn's do. Counting the frames by hand breaks whenever a
decorator or helper is added; :func:`warn_caller` skips the frames of this package (and of
scikit-learn's ``_fit_context`` wrapper, which stands between a caller and ``fit``) instead:
Python 3.12's ``warnings.warn(skip_file_prefixes=...)``, emulated on older versions.
"""

from __future__ import annotations

import inspect
import os
import sys
import warnings

import sklearn.base

__all__ = ["warn_caller"]

#: Files whose frames a warning skips: this package's, and scikit-learn's ``_fit_context``.
SKIPPED_FILES = (os.path.dirname(os.path.abspath(__file__)) + os.sep, sklearn.base.__file__)


def warn_caller(message: str, category: type[Warning]) -> None:
    """``warnings.warn(message, category)``, attributed to the first frame outside
    :data:`SKIPPED_FILES`: the user's code that called into the package."""
    if sys.version_info >= (3, 12):
        warnings.warn(message, category, skip_file_prefixes=SKIPPED_FILES)
        return
    frame = inspect.currentframe().f_back
    stacklevel = 2  # the caller of warn_caller
    while frame is not None and frame.f_code.co_filename.startswith(SKIPPED_FILES):
        frame = frame.f_back
        stacklevel += 1
    warnings.warn(message, category, stacklevel=stacklevel)
