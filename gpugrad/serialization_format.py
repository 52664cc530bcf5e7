"""The format of gpugrad's state files: the JSON manifest that describes a saved structure
(``encode``/``decode``), what a file that is not one is (``not_an_npz``), and where a
``.npz`` archive in a stream ends (``archive_end``). ``gpugrad.serialization`` reads and
writes the files with it.

Example::

    >>> from gpugrad.serialization_format import encode
    >>> arrays = {}
    >>> encode({"w": gpugrad.ones(2), "step": 3}, arrays, "", {})["dict"]["step"], list(arrays)
    ({'value': 3}, ['a0'])
"""

from __future__ import annotations

import os
import struct
import zipfile
from collections import OrderedDict

import numpy as np

from . import backend
from .nn.parameter import Parameter
from .tensor import Tensor

__all__ = ["CorruptFileError", "MANIFEST", "FORMAT", "encode", "decode", "not_an_npz",
           "archive_end", "reason", "without_manifest"]

MANIFEST = "__gpugrad_manifest__"
FORMAT = "gpugrad-state/1"


class CorruptFileError(ValueError):
    """A file is not a readable gpugrad state file (truncated, corrupt or foreign)."""


def encode(obj, arrays: dict, path: str, seen: dict):
    """The JSON description of ``obj``; its arrays go into ``arrays`` under fresh names
    (``seen``: id of each tensor or array saved so far -> its name, so a tensor saved twice
    is stored once and named twice)."""
    if isinstance(obj, Tensor) or backend.is_array(obj):
        is_tensor = isinstance(obj, Tensor)
        node = {"tensor": seen.get(id(obj)), "path": path, "is_tensor": is_tensor}
        if is_tensor and obj._requires_grad:
            node["requires_grad"] = True
        if isinstance(obj, Parameter):
            node["parameter"] = True
        if node["tensor"] is not None:          # tied: the same object again
            return node
        array = obj.numpy() if is_tensor else (
            obj if isinstance(obj, np.ndarray) else obj.get())
        if array.dtype.kind not in "biufc":
            raise TypeError(f"save: '{path}' is an array of dtype {array.dtype}; only numeric "
                            f"arrays can be saved")
        node["tensor"] = seen[id(obj)] = name = f"a{len(arrays)}"
        arrays[name] = array
        return node
    if isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: dict keys must be strings or ints; '{path}' has key "
                                f"{key!r}")
        if all(isinstance(key, str) for key in obj):
            node = {"dict": {k: encode(v, arrays, f"{path}.{k}" if path else k, seen)
                             for k, v in obj.items()}}
        else:   # int keys (an optimizer's state by parameter position): pairs keep their type
            node = {"items": [[k, encode(v, arrays, f"{path}.{k}" if path else str(k), seen)]
                              for k, v in obj.items()]}
        if isinstance(obj, OrderedDict):
            node["ordered"] = True
        return node
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [encode(v, arrays, f"{path}[{i}]", seen) for i, v in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    if isinstance(obj, np.generic):
        return {"value": obj.item()}
    if callable(getattr(obj, "state_dict", None)):     # a model, an optimizer, a scheduler
        what = path or "the object"
        raise TypeError(f"save: '{what}' is a {type(obj).__name__}; gpugrad saves state, not "
                        f"objects (no pickle): save its state_dict() instead, e.g. "
                        f"gpugrad.save(model.state_dict(), path), and restore it with "
                        f"model.load_state_dict(gpugrad.load(path))")
    raise TypeError(f"save: '{path or 'the object'}' is a {type(obj).__name__}; save takes "
                    f"dicts, lists and tuples of tensors, arrays, numbers, strings and None")


_NPY, _ZIP = b"\x93NUMPY", (b"PK\x03\x04", b"PK\x05\x06")


def not_an_npz(path) -> str | None:
    """What the file ``path`` (or a seekable binary file object, read from and returned to
    its position) is when it is not an ``.npz`` (zip) archive, with how to read it
    where that is known: a NumPy ``.npy`` array, a pickle, text, an empty file, or other
    bytes; None for a zip archive (which may still be truncated or foreign).

    Example::

        >>> from gpugrad.serialization import not_an_npz
        >>> np.save("array.npy", np.zeros(3))
        >>> not_an_npz("array.npy")
        'a NumPy .npy file (one array), not an .npz archive; read it with numpy.load'
        >>> gpugrad.save({"step": 1}, "state.npz")
        >>> not_an_npz("state.npz") is None
        True
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        start = path.tell()
        head = path.read(4096)
        path.seek(start)
    else:
        with open(path, "rb") as f:
            head = f.read(4096)
    if head.startswith(_ZIP):
        return None
    if head.startswith(_NPY):
        return "a NumPy .npy file (one array), not an .npz archive; read it with numpy.load"
    if not head:
        return "empty, not an .npz archive"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return ("a Python pickle (an old torch.save file is one), not an .npz archive; "
                "gpugrad never loads pickles (loading one can run any code)")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:     # cut in the middle of a character: still text
        text = (head[:exc.start].decode("utf-8") if len(head) == 4096
                and exc.start > len(head) - 4 else None)
    if text is not None and all(c.isprintable() or c in "\t\r\n" for c in text):
        return "a text file, not an .npz archive"
    return "truncated or corrupt (not an .npz archive: it does not start as a zip file does)"


def reason(exc: Exception) -> str:
    """``exc`` as a reason in parentheses; NumPy's advice to allow pickles is never passed
    on (loading a pickle can run any code)."""
    if "allow_pickle" in str(exc):
        return "it holds pickled Python objects, which gpugrad never loads"
    return f"{type(exc).__name__}: {exc}"


def without_manifest(path: str, archive) -> str:
    """Why the zip archive ``path`` without gpugrad's manifest cannot be loaded."""
    names = archive.zip.namelist()
    if any(name == "data.pkl" or name.endswith("/data.pkl") for name in names):
        return (f"load: {path} is a PyTorch checkpoint (torch.save), not a gpugrad.save file; "
                f"load it with torch.load(path, weights_only=True), convert each tensor with "
                f"gpugrad.from_dlpack(t) (or gpugrad.tensor(t.numpy())) and save that with "
                f"gpugrad.save")
    return (f"load: {path} is an .npz file but not one written by gpugrad.save (it has no "
            f"manifest); read it with numpy.load(path)")


def decode(node: dict, archive, device, path: str, memo: dict):
    """The object ``node`` describes (``memo``: array name -> the object already made from
    it, so tensors saved as one come back as one)."""
    if not isinstance(node, dict):
        raise CorruptFileError(f"load: {path}: unreadable manifest entry {node!r:.80}")
    if "tensor" in node:
        name, where = node["tensor"], node.get("path", "?")
        if name in memo:
            return memo[name]
        if name not in archive.files:
            raise CorruptFileError(f"load: {path}: the data of '{where}' is missing")
        try:
            array = archive[name]
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            raise CorruptFileError(f"load: {path}: the data of '{where}' is truncated or "
                                   f"corrupt ({reason(exc)})") from None
        memo[name] = out = _as_saved(node, backend.to_device(array, device)) if node.get(
            "is_tensor", True) else array
        return out
    ordered = OrderedDict if node.get("ordered") else dict
    if isinstance(node.get("dict"), dict):
        return ordered((str(k), decode(v, archive, device, path, memo))
                       for k, v in node["dict"].items())
    if isinstance(node.get("items"), list):
        pairs = node["items"]
        if not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], (str, int))
                   for p in pairs):
            raise CorruptFileError(f"load: {path}: unreadable manifest entry {node!r:.80}")
        return ordered((k, decode(v, archive, device, path, memo)) for k, v in pairs)
    if isinstance(node.get("list"), list):
        return [decode(v, archive, device, path, memo) for v in node["list"]]
    if isinstance(node.get("tuple"), list):
        return tuple(decode(v, archive, device, path, memo) for v in node["tuple"])
    if "value" in node:
        return node["value"]
    raise CorruptFileError(f"load: {path}: unreadable manifest entry {node!r}")


def _as_saved(node: dict, array) -> Tensor:
    """``array`` as the tensor ``node`` describes: a Parameter or not, requiring grad or not
    (files from before these were recorded: a plain tensor that does not)."""
    requires_grad = node.get("requires_grad") is True and array.dtype.kind in "fc"
    if node.get("parameter") is True:
        return Parameter(Tensor._wrap(array), requires_grad=requires_grad)
    out = Tensor._wrap(array)
    return out.requires_grad_(True) if requires_grad else out


_EOCD, _CENTRAL, _ZIP64_LOCATOR = b"PK\x05\x06", b"PK\x01\x02", b"PK\x06\x07"


def archive_end(data: bytes, start: int = 0) -> int | None:
    """The length of the zip archive at the beginning of ``data`` (bytes read from a stream
    at position ``start``): the end of its first end-of-central-directory record whose
    central directory lies in ``data`` where the record says (at an offset from the
    archive's start or from the stream's). None when there is none: not a whole archive.
    Bytes after it (an older, longer file written over, a second archive) are not part of
    it, as ``torch.load`` reads the first archive of a stream.

    Example::

        >>> import io
        >>> from gpugrad.serialization_format import archive_end
        >>> first, second = io.BytesIO(), io.BytesIO()
        >>> np.savez(first, a=np.ones(2)); np.savez(second, b=np.zeros(3))
        >>> archive_end(first.getvalue() + second.getvalue()) == len(first.getvalue())
        True
    """
    at = data.find(_EOCD)
    while at >= 0 and at + 22 <= len(data):
        size, offset, comment = struct.unpack_from("<IIH", data, at + 12)
        if 0xFFFFFFFF in (size, offset):            # zip64: its locator precedes
            if data[at - 20:at - 16] == _ZIP64_LOCATOR:
                return at + 22 + comment
        elif at - size >= 0 and offset in (at - size, at - size + start) and (
                size == 0 or data[at - size:at - size + 4] == _CENTRAL):
            return at + 22 + comment
        at = data.find(_EOCD, at + 1)
    return None
