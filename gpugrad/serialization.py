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
its current position, with no atomic rename, and cut after what was written when it is
seekable (so a buffer or file reused for a smaller state holds no remnant of the older one).
The format (manifest, archive checks) is in ``gpugrad.serialization_format``.

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

import numpy as np

from . import backend
from .serialization_format import (FORMAT, MANIFEST, CorruptFileError, archive_end, decode,
                                   encode, not_an_npz, reason, without_manifest)

__all__ = ["save", "load", "CorruptFileError", "not_an_npz", "temporary_file"]


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
    manifest = {"format": FORMAT, "root": encode(obj, arrays, "", {})}
    arrays[MANIFEST] = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
    if _is_file_object(f, "write"):
        np.savez(f, **arrays)
        if callable(getattr(f, "seekable", None)) and f.seekable():
            f.truncate()            # an older, longer content after it is gone, as with "wb"
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


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         device=None):
    """Read what ``save`` wrote to ``f``: a path or a binary file object (read from its
    current position to the end of the archive there, where it is left, as ``torch.load``;
    bytes after the archive are not read). Tensors go to ``map_location`` (or its other name
    ``device``: a device name or ``gpugrad.Device``; the default device when None); arrays
    saved as plain arrays come back as NumPy arrays. ``weights_only`` and ``mmap`` are
    accepted for ``torch.load``'s sake and change nothing (the arrays are read into memory):
    gpugrad's files hold no pickle, so every load is weights-only and ``pickle_module`` must
    be None.

    Raises ``FileNotFoundError`` for a missing file and ``CorruptFileError`` (naming the
    file, and the entry where one is at fault) for a truncated, corrupt or foreign one.

    Example::

        >>> gpugrad.save({"w": gpugrad.ones(2), "step": 10}, "state.npz")
        >>> gpugrad.load("state.npz", map_location="cpu", weights_only=True)
        {'w': tensor([1., 1.], device='cpu', dtype=float32), 'step': 10}
    """
    if pickle_module is not None:
        raise TypeError(f"load: pickle_module={pickle_module!r}: gpugrad's files hold no "
                        f"pickle (every load is weights-only), so no pickle module is used; "
                        f"leave it out")
    target = _load_device(map_location, device)
    if _is_file_object(f, "read"):
        if mmap:
            raise ValueError("load: f must be a file path in order to use the mmap argument")
        return _load_stream(f, target)
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
    """The one device ``map_location`` names. gpugrad's files do not record the device each
    tensor was saved from, so a dict must map to one device, and a function (PyTorch's
    ``lambda storage, loc: storage``) is asked where it puts a CPU tensor."""
    if isinstance(where, dict) and len({str(d) for d in where.values()}) == 1:
        where = next(iter(where.values()))
    elif callable(where) and not isinstance(where, (str, backend.Device)):
        from .tensor import Tensor
        moved = where(Tensor._wrap(np.zeros(())), "cpu")
        if not isinstance(moved, Tensor):
            raise TypeError(f"load: map_location, a function, returned a value of type "
                            f"{type(moved).__name__} for a tensor on the CPU; return the "
                            f"tensor (or a copy on the device to load onto), e.g. "
                            f"lambda storage, loc: storage")
        where = moved.device
    if isinstance(where, dict):
        raise TypeError(f"load: map_location, a dict, maps to several devices ({where!r}); "
                        f"gpugrad's files do not record the device each tensor was saved "
                        f"from, so all go to one device: pass it (e.g. 'cpu' or 'cuda:0')")
    return backend.Device(where if isinstance(where, (str, backend.Device)) else str(where))


def _load_stream(f, target: backend.Device):
    """``load`` of the archive at the file object ``f``'s position; ``f`` is left at its
    end."""
    name = str(getattr(f, "name", f"the {type(f).__name__}"))
    seekable = callable(getattr(f, "seekable", None)) and f.seekable()
    start = f.tell() if seekable else 0
    data = f.read()
    end = archive_end(data, start) if data.startswith(b"PK\x03\x04") else None
    if end is None:
        return _load_from(io.BytesIO(data), name, target)    # (its error says what it is)
    if seekable:
        f.seek(start + end)
    return _load_from(io.BytesIO(data if end == len(data) else data[:end]), name, target)


def _load_from(source, path: str, target: backend.Device):
    """``load`` of ``source`` (a path or a seekable file object), named ``path`` in errors."""
    foreign = not_an_npz(source)
    if foreign:
        raise CorruptFileError(f"load: {path} is {foreign}; gpugrad.load reads the .npz files "
                               f"gpugrad.save writes")
    try:
        with np.load(source, allow_pickle=False) as archive:
            if MANIFEST not in archive.files:
                raise CorruptFileError(without_manifest(path, archive))
            manifest = json.loads(archive[MANIFEST].tobytes().decode())
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise CorruptFileError(f"load: {path} does not have this gpugrad's format "
                                       f"{FORMAT!r}")
            return decode(manifest["root"], archive, target, path, {})
    except CorruptFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, TypeError,
            AttributeError, RecursionError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptFileError(f"load: {path} is truncated or corrupt ({reason(exc)})"
                               ) from None


