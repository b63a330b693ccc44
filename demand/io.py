"""Safe, atomic model files: JSON for structure, ``.npz`` for arrays, never pickle.

A model saved to ``model.json`` writes ``model.json`` and ``model.npz`` beside it.
The JSON records the sha256 of the ``.npz``; loading refuses a mismatch, an object
array (the only way a pickle payload can hide in an ``.npz``), an unknown format
version, and a family that is not registered. Loading never executes code.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from pricegym.errors import ModelFileError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "atomic_write_bytes",
    "read_model_files",
    "write_model_files",
]

FORMAT = "pricegym.demand-model"
FORMAT_VERSION = 1
#: How messages name each kind of file.
_WHAT = {
    FORMAT: "pricegym demand model",
    "pricegym.agent": "pricegym agent",
    "pricegym.qlearning-result": "pricegym Q-learning result",
}


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600 files; give the result the permissions a plain open()
        # would (0666 minus the umask), so results are readable by the user's tools.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _arrays_path(json_path: Path) -> Path:
    return json_path.with_suffix(".npz")


def write_model_files(
    path: str | Path,
    document: dict[str, Any],
    arrays: dict[str, np.ndarray],
    *,
    fmt: str = FORMAT,
) -> Path:
    """Write ``document`` as JSON at ``path`` (suffix forced to ``.json``) and arrays beside it.

    ``fmt`` names the kind of file (demand model by default; agents use
    ``"pricegym.agent"``). Returns the JSON path. The ``.npz`` is written first, so
    a crash can leave at worst an orphan ``.npz``, never a JSON that points at
    missing arrays.
    """
    json_path = Path(path)
    if json_path.suffix != ".json":
        json_path = json_path.with_suffix(".json")
    buf = io.BytesIO()
    # Ignored: numpy's stub has a keyword allow_pickle: bool beside **kwds, and mypy
    # checks a **dict against every keyword; our keys are array names (none is
    # "allow_pickle", which numpy would take as that keyword).
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})  # type: ignore[arg-type]
    blob = buf.getvalue()
    for name, arr in arrays.items():
        if np.asarray(arr).dtype == object:
            raise ModelFileError(f"array {name!r} has dtype object, which would need pickle.")
    atomic_write_bytes(_arrays_path(json_path), blob)
    doc = {
        "format": fmt,
        "format_version": FORMAT_VERSION,
        **document,
        "arrays_file": _arrays_path(json_path).name,
        "arrays_sha256": hashlib.sha256(blob).hexdigest(),
    }
    text = json.dumps(doc, indent=2, sort_keys=False, allow_nan=True)
    atomic_write_bytes(json_path, (text + "\n").encode())
    return json_path


def _check_format_version(json_path: Path, version: Any, fmt: str) -> None:
    """Refuse a format version this pricegym does not read, saying which way it differs."""
    if version == FORMAT_VERSION and not isinstance(version, bool):
        return
    what = _WHAT.get(fmt, repr(fmt))
    if isinstance(version, bool) or not isinstance(version, int):
        raise ModelFileError(
            f"{str(json_path)!r} has format_version {version!r}, not a whole number; the "
            f"file is corrupt or hand-edited: save the {what} again."
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{str(json_path)!r} has format_version {version}, newer than the version "
            f"{FORMAT_VERSION} this pricegym reads: a newer pricegym wrote it; upgrade pricegym."
        )
    raise ModelFileError(
        f"{str(json_path)!r} has format_version {version}, an older format than the version "
        f"{FORMAT_VERSION} this pricegym reads, which it cannot convert (upgrading will not "
        f"help); refit / retrain the {what} and save it again, or keep using it with the "
        "pricegym that wrote it."
    )


def read_model_files(
    path: str | Path, *, fmt: str = FORMAT
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and check a file written by :func:`write_model_files` with the same ``fmt``.

    Raises:
        ModelFileError: the file is missing, not JSON, not a pricegym model, of a
            format version other than this pricegym's (the message says whether it is
            newer — upgrade — or older — refit / retrain), its arrays are
            missing/altered, or they contain object (pickled) data.
    """
    json_path = Path(path)
    if not json_path.is_file():
        raise ModelFileError(
            f"model file {str(json_path)!r} does not exist; pass the .json path that "
            "`pricegym fit --out` or `model.save()` wrote."
        )
    try:
        doc = json.loads(json_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(
            f"model file {str(json_path)!r} is not valid JSON ({exc}); model files are "
            "JSON documents written by `model.save()`; refit and save again."
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise ModelFileError(
            f"{str(json_path)!r} is not a {_WHAT.get(fmt, repr(fmt))} file (its 'format' is "
            f"{doc.get('format') if isinstance(doc, dict) else type(doc).__name__!r}, "
            f"expected {fmt!r}); pass a file written by the matching `save()`."
        )
    _check_format_version(json_path, doc.get("format_version"), fmt)
    name = doc.get("arrays_file")
    if not isinstance(name, str) or Path(name).name != name:
        raise ModelFileError(
            f"{str(json_path)!r}: 'arrays_file' must be a bare file name beside the JSON, "
            f"got {name!r}; re-save the model."
        )
    npz_path = json_path.parent / name
    if not npz_path.is_file():
        raise ModelFileError(
            f"{str(json_path)!r} needs its arrays file {str(npz_path)!r}, which is missing; "
            "copy the .json and .npz files together."
        )
    blob = npz_path.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != doc.get("arrays_sha256"):
        raise ModelFileError(
            f"{str(npz_path)!r} has sha256 {digest[:16]}…, but {str(json_path)!r} records "
            f"{str(doc.get('arrays_sha256'))[:16]}…; the files do not belong together or "
            "were altered; re-save the model."
        )
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            for key in data.files:
                arrays[key] = data[key]
    except ValueError as exc:
        raise ModelFileError(
            f"{str(npz_path)!r} contains object arrays, which can only be read with "
            f"pickle and could execute code; refusing to load it ({exc})."
        ) from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFileError(f"{str(npz_path)!r} is not a valid .npz archive ({exc}).") from None
    return doc, arrays
