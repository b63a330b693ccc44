"""Model files: JSON + .npz, atomic, and impossible to use for code execution."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from pricegym.demand import DemandModel, LinearDemand
from pricegym.errors import ModelFileError


@pytest.fixture()
def saved(tmp_path, weekly_history) -> Path:
    return LinearDemand().fit(weekly_history).save(tmp_path / "model.json")


class _Payload:
    """Unpickling this creates a marker file: proof that code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def _rewrite_npz(json_path: Path, arrays: dict) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # allow_pickle defaults to True on save: object arrays pickle
    blob = buf.getvalue()
    json_path.with_suffix(".npz").write_bytes(blob)
    doc = json.loads(json_path.read_text())
    doc["arrays_sha256"] = hashlib.sha256(blob).hexdigest()  # a consistent forgery
    json_path.write_text(json.dumps(doc))


def test_pickle_payload_is_rejected_without_running(saved, tmp_path):
    marker = tmp_path / "pwned"
    with np.load(saved.with_suffix(".npz")) as data:
        arrays = {k: data[k] for k in data.files}
    payload = np.empty(1, dtype=object)
    payload[0] = _Payload(str(marker))
    arrays["coef"] = payload
    _rewrite_npz(saved, arrays)
    assert b"pwned" in saved.with_suffix(".npz").read_bytes()  # the payload is in the file
    with pytest.raises(ModelFileError, match=r"object arrays.*pickle"):
        DemandModel.load(saved)
    assert not marker.exists()
    # Sanity: the crafted file really would run code if someone unpickled it.
    with np.load(saved.with_suffix(".npz"), allow_pickle=True) as data:
        data["coef"]
    assert marker.exists()


def test_pickle_file_renamed_to_json_is_rejected(tmp_path):
    path = tmp_path / "model.json"
    path.write_bytes(pickle.dumps({"format": "pricegym.demand-model"}))
    with pytest.raises(ModelFileError, match="not valid JSON"):
        DemandModel.load(path)


def test_tampered_arrays_are_rejected(saved):
    npz = saved.with_suffix(".npz")
    blob = bytearray(npz.read_bytes())
    blob[-30] ^= 0xFF
    npz.write_bytes(bytes(blob))
    with pytest.raises(ModelFileError, match="sha256"):
        DemandModel.load(saved)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"format": "something-else"}, "not a pricegym demand model"),
        ({"format_version": 99}, r"format_version 99, newer .*upgrade pricegym"),
        ({"format_version": 0}, r"format_version 0, an older format .*will not help"),
        ({"format_version": "1"}, r"format_version '1', not a whole number"),
        ({"family": "oracle"}, "family 'oracle'"),
        ({"arrays_file": "../elsewhere.npz"}, "bare file name"),
    ],
)
def test_malformed_documents_name_the_problem(saved, edit, message):
    doc = json.loads(saved.read_text())
    doc.update(edit)
    saved.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match=message):
        DemandModel.load(saved)


def test_missing_files_name_the_fix(saved, tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        DemandModel.load(tmp_path / "nope.json")
    saved.with_suffix(".npz").unlink()
    with pytest.raises(ModelFileError, match=r"copy the \.json and \.npz files together"):
        DemandModel.load(saved)


def test_save_leaves_no_temporary_files(saved):
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model.json", "model.npz"]
    doc = json.loads(saved.read_text())
    assert doc["family"] == "linear" and doc["format_version"] == 1
    assert doc["params"]["cov_type"] == "nonrobust"
