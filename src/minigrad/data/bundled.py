"""Where the run files and bAbI tasks that come with minigrad are.

The repository keeps them at its top, in ``configs/`` and ``data/``; an
installed package carries the same folders as ``minigrad/_configs`` and
``minigrad/_data`` (see ``[tool.setuptools.package-dir]`` in pyproject.toml).
A source checkout or an editable install has only the top-level folders, an
installed wheel only the packaged ones, so each folder is looked for in both.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # the minigrad package
_CHECKOUT = _PACKAGE.parents[1]  # src/minigrad -> the repository root
_FOLDERS = {"configs": "_configs", "data": "_data"}  # top-level name -> name inside the package


def folder(name):
    """The bundled folder ``name`` (``"configs"`` or ``"data"``): the package's copy, else the checkout's."""
    packaged = _PACKAGE / _FOLDERS[name]
    return packaged if packaged.is_dir() else _CHECKOUT / name
