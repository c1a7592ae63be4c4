"""Builds the optional fused CPU kernels (sklearn_posnet/nn/_kernels.c); metadata is in pyproject.

Without a C compiler the build skips them (``optional=True``) and the package runs on PyTorch
operations alone: same results, slower training on the CPU.
"""

import sys

from setuptools import Extension, setup

if sys.platform == "win32":
    compile_args, link_args = ["/O2", "/openmp"], []
else:
    # -fno-trapping-math and -fno-math-errno let the compiler vectorize the falloff loops; they
    # change no result (no reassociation, no fast-math).
    compile_args = ["-O3", "-fopenmp", "-fno-trapping-math", "-fno-math-errno"]
    link_args = ["-fopenmp"]

setup(
    ext_modules=[
        Extension(
            "sklearn_posnet.nn._kernels",
            sources=["sklearn_posnet/nn/_kernels.c"],
            extra_compile_args=compile_args,
            extra_link_args=link_args,
            optional=True,
        )
    ]
)
