"""Builds the optional fused CPU kernels (sklearn_posnet/nn/_kernels.c); metadata is in pyproject.

Without a C compiler the build skips them (``optional=True``) and the package runs on PyTorch
operations alone: same results, slower training on the CPU.

The flags depend on the compiler, found out by compiling small probes:

- MSVC: ``/O2 /openmp``;
- GCC, and clang with an OpenMP runtime (libomp): ``-O3 -fopenmp``; Apple's clang takes OpenMP
  as ``-Xpreprocessor -fopenmp -lomp`` where Homebrew's libomp is installed;
- a compiler without OpenMP (Apple's clang without libomp), or ``SKLEARN_POSNET_OPENMP=0`` in
  the environment: ``-fopenmp-simd``, which keeps the loops' vectorization hints; the kernels
  then run on one thread.

``-fno-trapping-math`` and ``-fno-math-errno`` let the compiler vectorize the falloff loops; they
change no result (no reassociation, no fast-math).
"""

import os
import tempfile

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

OPTIMIZE = ["-O3", "-fno-trapping-math", "-fno-math-errno"]
# (compile flags, link flags) that give OpenMP, in the order tried.
OPENMP_VARIANTS = [
    (["-fopenmp"], ["-fopenmp"]),
    (["-Xpreprocessor", "-fopenmp"], ["-lomp"]),  # Apple clang with Homebrew's libomp
]
NO_OPENMP = (["-fopenmp-simd"], [])
OPENMP_PROBE = "#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n"


def _builds(compiler, source: str, compile_args, link_args) -> bool:
    """Whether ``compiler`` compiles and links ``source`` with these flags."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "probe.c")
        with open(path, "w") as file:
            file.write(source)
        try:
            objects = compiler.compile([path], output_dir=tmp, extra_postargs=compile_args)
            compiler.link_executable(objects, "probe", output_dir=tmp, extra_postargs=link_args)
        except Exception:  # CompileError, LinkError, a missing executable
            return False
    return True


def compiler_flags(compiler) -> tuple[list[str], list[str]]:
    """The (compile, link) flags of the kernels for a distutils ``compiler``."""
    if compiler.compiler_type == "msvc":
        return ["/O2", "/openmp"], []
    variants = OPENMP_VARIANTS if os.environ.get("SKLEARN_POSNET_OPENMP", "1") != "0" else []
    for compile_args, link_args in variants:
        if _builds(compiler, OPENMP_PROBE, OPTIMIZE + compile_args, link_args):
            return OPTIMIZE + compile_args, link_args
    simd_args, simd_link = NO_OPENMP
    if _builds(compiler, "int main(void) { return 0; }\n", OPTIMIZE + simd_args, simd_link):
        return OPTIMIZE + simd_args, simd_link
    return OPTIMIZE, []


class BuildKernels(build_ext):
    """build_ext with the kernels' flags chosen for the compiler at hand."""

    def build_extensions(self):
        compile_args, link_args = compiler_flags(self.compiler)
        for extension in self.extensions:
            extension.extra_compile_args = compile_args
            extension.extra_link_args = link_args
        super().build_extensions()


setup(
    ext_modules=[
        Extension(
            "sklearn_posnet.nn._kernels",
            sources=["sklearn_posnet/nn/_kernels.c"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": BuildKernels},
)
