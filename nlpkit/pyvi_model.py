"""pyvi's word-segmentation model, read from the installed pyvi's files without importing
pyvi (which imports scikit-learn and sklearn-crfsuite) and without running its pickle.

The weights are read bit for bit from crfsuite's binary model inside pyvi's pickle (crfsuite's
own dump prints them rounded to six decimals); both segmenters, `nlpkit.segmenter` and the
compiled core, read them here. Nothing of pyvi is copied into this repository.
"""

from __future__ import annotations

import io
import pickle
import struct

from .installed import package_folder

__all__ = ["model_file", "crfsuite_bytes", "read_crfsuite"]


def model_file(name: str) -> bytes:
    """The bytes of a file of the installed pyvi's ``models`` folder."""
    folder = package_folder("pyvi")
    if folder is None:
        raise ModuleNotFoundError("pyvi is not installed: nlpkit reads its segmentation model")
    return (folder / "models" / name).read_bytes()


class _Inert:
    """Stands in for every class named in pyvi's pickle except the codec, so that reading the
    pickle neither runs their code nor imports scikit-learn; it keeps whatever state it gets."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.args = args

    def __setstate__(self, state: object) -> None:
        self.state = state


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) == ("_codecs", "encode"):
            # Protocol-2 pickles store bytes as codecs.encode(str, "latin1"): str.encode does
            # the same without a codec look-up (which imports a module).
            return _encode
        return _Inert


def _encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    return text.encode(encoding, errors)


def crfsuite_bytes(pickled: bytes) -> bytes:
    """The crfsuite model file inside pyvi's pickled sklearn_crfsuite.CRF: the pickle keeps it
    as the ``__FILE_RESOURCE_DATA__`` of the CRF's ``modelfile``."""
    crf = _Unpickler(io.BytesIO(pickled)).load()
    data = crf.state["modelfile"].state["__FILE_RESOURCE_DATA__"]
    if not isinstance(data, bytes):
        raise ValueError("pyvi's pickle holds no crfsuite model")
    return data


def _cqdb_strings(data: bytes, offset: int, count: int) -> list[str]:
    # A CQDB chunk: 24-byte header (chunk id, size, flag, byte order, backward-array size and
    # offset), then records "int32 id, uint32 size, key with its NUL"; the backward array gives
    # each id's record.
    if data[offset : offset + 4] != b"CQDB":
        raise ValueError("not a crfsuite model: CQDB chunk missing")
    (backward,) = struct.unpack_from("<I", data, offset + 20)
    out = []
    for i in range(count):
        (record,) = struct.unpack_from("<I", data, offset + backward + 4 * i)
        ident, size = struct.unpack_from("<iI", data, offset + record)
        key = data[offset + record + 8 : offset + record + 8 + size]
        if ident != i or key[-1:] != b"\0":
            raise ValueError("unexpected CQDB record in crfsuite model")
        out.append(key[:-1].decode("utf-8"))
    return out


def read_crfsuite(data: bytes) -> tuple[list[str], dict[str, list[float]], list[list[float]]]:
    """Labels, state weights {attribute: [weight per label]} and transition weights
    [from][to] of a crfsuite CRF1d model file (the "lCRF"/"FOMC" format, version 100)."""
    magic, _, kind, version, _, n_labels, n_attrs, off_feat, off_labels, off_attrs, _, off_refs = (
        struct.unpack_from("<4sI4sIIIIIIIII", data, 0)
    )
    if magic != b"lCRF" or kind != b"FOMC" or version != 100:
        raise ValueError("not a crfsuite CRF1d model of a known version")
    labels = _cqdb_strings(data, off_labels, n_labels)
    attrs = _cqdb_strings(data, off_attrs, n_attrs)
    (n_features,) = struct.unpack_from("<I", data, off_feat + 8)
    # Each feature: uint32 type (0 state, 1 transition), src, dst, float64 weight.
    features = [
        struct.unpack_from("<IIId", data, off_feat + 12 + 20 * i) for i in range(n_features)
    ]
    trans = [[0.0] * n_labels for _ in range(n_labels)]
    for kind_, src, dst, weight in features:
        if kind_ == 1:
            trans[src][dst] = weight  # crfsuite assigns (does not add) transition weights
    state: dict[str, list[float]] = {}
    for aid in range(n_attrs):
        # crfsuite adds an attribute's features in the order of its reference list; a model
        # has at most one feature per (attribute, label), so the order cannot matter here.
        (ref,) = struct.unpack_from("<I", data, off_refs + 12 + 4 * aid)
        (count,) = struct.unpack_from("<I", data, ref)
        weights = [0.0] * n_labels
        seen = set()
        for fid in struct.unpack_from(f"<{count}I", data, ref + 4):
            kind_, src, dst, weight = features[fid]
            if kind_ != 0 or src != aid or dst in seen:
                raise ValueError("unexpected state feature in crfsuite model")
            seen.add(dst)
            weights[dst] = weight
        state[attrs[aid]] = weights
    return labels, state, trans
