"""Saving and loading state: ``save(obj, f)`` and ``load(f, map_location=None)``.

``obj`` is a nested structure of dicts (string or int keys), lists and tuples whose leaves are
tensors (or NumPy/CuPy arrays) and plain values (int, float, bool, str, None). The file is an
``.npz`` archive: one array per tensor plus a JSON manifest describing the structure. It is
read with ``allow_pickle=False`` (no pickle anywhere) and written atomically: to a temporary
file in the same folder, flushed and fsynced, then renamed over the real name, so a crash
mid-save never leaves a half-written file there. Saving through a symbolic link writes
the file it points to (the link stays a link), as ``open(path, "wb")`` would: a link to a
missing file in an existing folder creates that file; a loop of links is an error. An
existing file that is not writable is refused (``PermissionError``), as ``torch.save``'s.
``f`` may also be a binary file object (``io.BytesIO``, ``open(path, "wb")``): written from
its current position, with no atomic rename.

As ``torch.save``, a round trip keeps a tensor's ``requires_grad`` (a computed tensor comes
back as a leaf), ``nn.Parameter``, ``OrderedDict`` (what ``state_dict()`` returns) and
tied tensors: one tensor object saved in several places comes back as one object. A
namedtuple comes back as a plain tuple, and tensors that are different views of one memory
come back as separate copies. There is no pickle, so every load is what ``torch.load``
calls ``weights_only=True``.

Example::

    >>> model = nn.Linear(3, 2)
    >>> gpugrad.save({"model": model.state_dict(), "epoch": 3}, "ckpt.npz")
    >>> state = gpugrad.load("ckpt.npz")
    >>> state["epoch"], sorted(state["model"])
    (3, ['bias', 'weight'])
    >>> model.load_state_dict(state["model"])
    <All keys matched successfully>
"""

from __future__ import annotations

import errno
import io
import json
import os
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from . import backend
from .nn.parameter import Parameter
from .tensor import Tensor

__all__ = ["save", "load", "CorruptFileError", "not_an_npz", "temporary_file"]

_MANIFEST = "__gpugrad_manifest__"
_FORMAT = "gpugrad-state/1"


class CorruptFileError(ValueError):
    """A file is not a readable gpugrad state file (truncated, corrupt or foreign)."""


def _encode(obj, arrays: dict, path: str, seen: dict):
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
            node = {"dict": {k: _encode(v, arrays, f"{path}.{k}" if path else k, seen)
                             for k, v in obj.items()}}
        else:   # int keys (an optimizer's state by parameter position): pairs keep their type
            node = {"items": [[k, _encode(v, arrays, f"{path}.{k}" if path else str(k), seen)]
                              for k, v in obj.items()]}
        if isinstance(obj, OrderedDict):
            node["ordered"] = True
        return node
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, arrays, f"{path}[{i}]", seen) for i, v in enumerate(obj)]}
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


def save(obj, f) -> None:
    """Write ``obj`` to ``f``, a path (atomically) or a binary file object (see the module
    docstring). An existing file that is not writable raises ``PermissionError``.

    Example::

        >>> import io
        >>> buffer = io.BytesIO()
        >>> gpugrad.save({"w": gpugrad.ones(2)}, buffer)
        >>> _ = buffer.seek(0)
        >>> gpugrad.load(buffer)["w"].tolist()
        [1.0, 1.0]
    """
    arrays = {}
    manifest = {"format": _FORMAT, "root": _encode(obj, arrays, "", {})}
    arrays[_MANIFEST] = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
    if _is_file_object(f, "write"):
        np.savez(f, **arrays)
        return
    path = _target(os.fspath(f))
    folder = os.path.dirname(path)
    mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else None
    if mode is not None and not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, f"save: {path} exists and is not writable (as "
                              f"torch.save, gpugrad.save does not replace it); make it "
                              f"writable (chmod u+w) or save under another name", path)
    temporary = temporary_file(folder, ".npz", lambda f: np.savez(f, **arrays), mode)
    try:
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _fsync_folder(folder)


def _is_file_object(f, method: str) -> bool:
    """Whether ``f`` is an open file object (has ``method``) rather than a path."""
    return not isinstance(f, (str, bytes, os.PathLike)) and callable(getattr(f, method, None))


def temporary_file(folder, suffix: str, write, mode: int | None = None) -> str:
    """A new file in ``folder`` holding what ``write(f)`` wrote to ``f`` (opened "wb"),
    flushed to the disk, with permissions ``mode`` (None: those a new file gets, not
    mkstemp's 0600); the caller renames it over the real name with ``os.replace``, which
    is atomic (readers see the old file or the new one, never a part). Removed again if
    ``write`` fails.

    Example::

        >>> import os
        >>> from gpugrad.serialization import temporary_file
        >>> name = temporary_file(".", ".txt", lambda f: f.write(b"epoch 3"))
        >>> os.replace(name, "status.txt")
        >>> open("status.txt").read()
        'epoch 3'
    """
    handle, path = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=folder)
    try:
        with os.fdopen(handle, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(path, 0o666 & ~_UMASK if mode is None else mode)
    except BaseException:
        os.remove(path)
        raise
    return path


def _target(given: str) -> str:
    """The file that saving to ``given`` replaces: ``given`` itself, or the end of its chain
    of symbolic links (the links stay), which may not exist yet. Raises ``OSError`` (ELOOP)
    for links that loop, ``FileNotFoundError`` for a missing folder and
    ``IsADirectoryError`` for a folder, each naming the path given."""
    try:
        os.stat(given)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            what = (f"is a symbolic link that loops ({_chain(given)})" if os.path.islink(given)
                    else "goes through symbolic links that loop")
            raise OSError(errno.ELOOP, f"save: {given} {what} and never reaches a file; remove "
                                       f"the loop, or point the link at the file to write"
                          ) from None
    path = os.path.realpath(given)
    via = f" (where the symbolic link {given} leads)" if path != os.path.abspath(given) else ""
    if not os.path.isdir(os.path.dirname(path)):
        raise FileNotFoundError(f"save: the folder of {path}{via} does not exist; create it "
                                f"first")
    if os.path.isdir(path):
        raise IsADirectoryError(f"save: {path}{via} is a folder; pass a file name, e.g. "
                                f"{os.path.join(given, 'state.npz')}")
    return path


def _chain(given: str, limit: int = 8) -> str:
    """The links from ``given`` as written, e.g. ``a -> b -> a`` (at most ``limit`` steps)."""
    shown, path, seen = [given], given, {os.path.abspath(given)}
    while len(shown) <= limit:
        try:
            step = os.readlink(path)
        except OSError:
            break
        path = os.path.join(os.path.dirname(path), step)
        shown.append(step)
        if os.path.abspath(path) in seen:
            break
        seen.add(os.path.abspath(path))
    return " -> ".join(shown)


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()       # read once, at import: os.umask cannot be read without setting


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (where the platform allows opening folders)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load(f, map_location=None, *, weights_only=None, device=None):
    """Read what ``save`` wrote to ``f``: a path or a binary file object (read from its
    current position). Tensors go to ``map_location`` (or its other name ``device``: a
    device name or ``gpugrad.Device``; the default device when None); arrays saved as plain
    arrays come back as NumPy arrays. ``weights_only`` is accepted for ``torch.load``'s sake
    and changes nothing: gpugrad's files hold no pickle, so every load is weights-only.

    Raises ``FileNotFoundError`` for a missing file and ``CorruptFileError`` (naming the
    file, and the entry where one is at fault) for a truncated, corrupt or foreign one.

    Example::

        >>> gpugrad.save({"w": gpugrad.ones(2), "step": 10}, "state.npz")
        >>> gpugrad.load("state.npz", map_location="cpu", weights_only=True)
        {'w': tensor([1., 1.], device='cpu', dtype=float32), 'step': 10}
    """
    target = _load_device(map_location, device)
    if _is_file_object(f, "read"):
        name = str(getattr(f, "name", f"the {type(f).__name__}"))
        if not (callable(getattr(f, "seekable", None)) and f.seekable()):
            f = io.BytesIO(f.read())            # (a zip archive is read by seeking)
        return _load_from(f, name, target)
    path = os.fspath(f)
    if not os.path.exists(path):
        link = (f" (a symbolic link that never reaches a file: {_chain(path)})"
                if os.path.islink(path) else "")
        raise FileNotFoundError(f"load: no such file: {path}{link}")
    return _load_from(path, path, target)


def _load_device(map_location, device) -> backend.Device:
    """The device ``load`` puts tensors on: ``map_location`` (torch's name) or ``device``."""
    devices = [_device(where) for where in (map_location, device) if where is not None]
    if devices and devices[0] != devices[-1]:
        raise TypeError(f"load: map_location={map_location!r} and device={device!r} name "
                        f"different devices; pass one of them")
    return devices[0] if devices else backend.get_default_device()


def _device(where) -> backend.Device:
    if isinstance(where, dict) or callable(where):
        raise TypeError(f"load: map_location must be a device (e.g. 'cpu' or 'cuda:0'), not "
                        f"a {type(where).__name__}: gpugrad's files do not record the device "
                        f"each tensor was saved from, so all go to the one device given")
    return backend.Device(where if isinstance(where, (str, backend.Device)) else str(where))


def _load_from(source, path: str, target: backend.Device):
    """``load`` of ``source`` (a path or a seekable file object), named ``path`` in errors."""
    foreign = not_an_npz(source)
    if foreign:
        raise CorruptFileError(f"load: {path} is {foreign}; gpugrad.load reads the .npz files "
                               f"gpugrad.save writes")
    try:
        with np.load(source, allow_pickle=False) as archive:
            if _MANIFEST not in archive.files:
                raise CorruptFileError(_without_manifest(path, archive))
            manifest = json.loads(archive[_MANIFEST].tobytes().decode())
            if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
                raise CorruptFileError(f"load: {path} does not have this gpugrad's format "
                                       f"{_FORMAT!r}")
            return _decode(manifest["root"], archive, target, path, {})
    except CorruptFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, TypeError,
            AttributeError, RecursionError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptFileError(f"load: {path} is truncated or corrupt ({_reason(exc)})"
                               ) from None


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
    if _is_file_object(path, "read"):
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


def _reason(exc: Exception) -> str:
    """``exc`` as a reason in parentheses; NumPy's advice to allow pickles is never passed
    on (loading a pickle can run any code)."""
    if "allow_pickle" in str(exc):
        return "it holds pickled Python objects, which gpugrad never loads"
    return f"{type(exc).__name__}: {exc}"


def _without_manifest(path: str, archive) -> str:
    """Why the zip archive ``path`` without gpugrad's manifest cannot be loaded."""
    names = archive.zip.namelist()
    if any(name == "data.pkl" or name.endswith("/data.pkl") for name in names):
        return (f"load: {path} is a PyTorch checkpoint (torch.save), not a gpugrad.save file; "
                f"load it with torch.load(path, weights_only=True), convert each tensor with "
                f"gpugrad.from_dlpack(t) (or gpugrad.tensor(t.numpy())) and save that with "
                f"gpugrad.save")
    return (f"load: {path} is an .npz file but not one written by gpugrad.save (it has no "
            f"manifest); read it with numpy.load(path)")


def _decode(node: dict, archive, device, path: str, memo: dict):
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
                                   f"corrupt ({_reason(exc)})") from None
        memo[name] = out = _as_saved(node, backend.to_device(array, device)) if node.get(
            "is_tensor", True) else array
        return out
    ordered = OrderedDict if node.get("ordered") else dict
    if isinstance(node.get("dict"), dict):
        return ordered((str(k), _decode(v, archive, device, path, memo))
                       for k, v in node["dict"].items())
    if isinstance(node.get("items"), list):
        pairs = node["items"]
        if not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], (str, int))
                   for p in pairs):
            raise CorruptFileError(f"load: {path}: unreadable manifest entry {node!r:.80}")
        return ordered((k, _decode(v, archive, device, path, memo)) for k, v in pairs)
    if isinstance(node.get("list"), list):
        return [_decode(v, archive, device, path, memo) for v in node["list"]]
    if isinstance(node.get("tuple"), list):
        return tuple(_decode(v, archive, device, path, memo) for v in node["tuple"])
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
