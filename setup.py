"""Compiles protocol/record_scan.py with Cython where a C compiler is at hand (everything else is in pyproject.toml).

The record walker runs on every produced record; compiled it costs a few percent of a Produce, interpreted
several times the rest of the request. Without a compiler (or without Cython) the build still succeeds and the
same file runs as plain Python.
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """A failed compile leaves the pure-Python module in place instead of failing the install."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as err:  # no compiler, no Python headers: interpreted is still correct
            print(f"warning: kafkette's record walker stays interpreted ({err})")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as err:
            print(f"warning: kafkette's record walker stays interpreted ({err})")


def extensions() -> list[Extension]:
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    return cythonize([Extension("kafkette.protocol.record_scan", ["protocol/record_scan.py"])],
                     compiler_directives={"language_level": 3}, quiet=True)


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
