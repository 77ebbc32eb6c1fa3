"""Output files that are either complete or absent.

Every file inrcodec writes goes through :func:`atomic_output`: the data lands in a temporary file
beside the target and is renamed over it only once complete, so an error or Ctrl-C never leaves a
partial output behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import InputError, OutputError

PathLike = str | os.PathLike


def check_input_file(path: PathLike, what: str = "input") -> Path:
    """The path as a Path, or an InputError naming why it cannot be read."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} not found: {p}")
    if p.is_dir():
        raise InputError(f"{what} is a directory, not a file: {p}")
    if not os.access(p, os.R_OK):
        raise InputError(f"{what} is not readable (permission denied): {p}")
    return p


def check_output_path(path: PathLike, protect: Iterable[PathLike] = ()) -> Path:
    """Refuse, before any work is done, an output path that cannot or must not be written."""
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"output is a directory: {p}")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise OutputError(f"output folder does not exist: {parent}")
    if not parent.is_dir():
        raise OutputError(f"output folder is not a directory: {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to {parent}: permission denied")
    if p.exists():
        for other in protect:
            try:
                if os.path.samefile(p, other):
                    raise OutputError(f"refusing to overwrite the input file: {p}")
            except FileNotFoundError:
                continue
        if not os.access(p, os.W_OK):
            raise OutputError(f"cannot overwrite {p}: permission denied")
    return p


def make_output_folder(path: PathLike, what: str = "output folder") -> Path:
    """Create the folder ``path`` (and its parents) if needed; a one-line OutputError if it is a
    file or cannot be made."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{what} is not a directory: {path}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create the {what} {path}: {e.strerror}") from None
    return path


#: temporary files end in ``.<host>-<pid>`` and this: whose they are, and that they are inrcodec's
_TMP_SUFFIX = ".inrcodec.tmp"
_TMP_RE = re.compile(r"^\..+\.([0-9a-f]{8})-(\d+)" + re.escape(_TMP_SUFFIX) + "$")
#: a temporary file older than this is stale whoever made it (a decode is bounded to minutes)
_STALE_SECONDS = 24 * 3600


def _host() -> str:
    return zlib.crc32(socket.gethostname().encode()).to_bytes(4, "big").hex()


def _stale(entry: os.DirEntry, host: str, now: float) -> bool:
    """Whether a temporary file of ours is left over from a process that is gone (killed, or
    the machine restarted): its process no longer exists on this host, or it is a day old."""
    m = _TMP_RE.match(entry.name)
    if m is None:
        return False
    try:
        if now - entry.stat(follow_symlinks=False).st_mtime > _STALE_SECONDS:
            return True
    except OSError:
        return False
    if m.group(1) != host:
        return False  # another machine's (a shared folder): only its age says it is stale
    try:
        os.kill(int(m.group(2)), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        return False
    return False


def remove_stale_temporaries(folder: Path) -> list[str]:
    """Remove the temporary files that an inrcodec process killed while writing (SIGKILL, a
    power cut) left in ``folder``; the names removed. Called before every write there."""
    removed = []
    host, now = _host(), time.time()
    try:
        entries = [e for e in os.scandir(folder) if e.name.endswith(_TMP_SUFFIX) and e.is_file(follow_symlinks=False)]
    except OSError:
        return removed
    for entry in entries:
        if _stale(entry, host, now):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(entry.name)
    return removed


@contextlib.contextmanager
def atomic_output(path: PathLike, protect: Iterable[PathLike] = ()) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is renamed to ``path``, else removed.

    The temporary file (``.<name>.<random>.<host>-<pid>.inrcodec.tmp`` beside the target) is
    removed however this process ends except by SIGKILL or a crash of the machine; those are
    cleaned up by the next write to the same folder (:func:`remove_stale_temporaries`)."""
    target = check_output_path(path, protect)
    parent = target.parent if str(target.parent) else Path(".")
    remove_stale_temporaries(parent)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".{_host()}-{os.getpid()}{_TMP_SUFFIX}",
                                        dir=parent)  # fmt: skip
    except OSError as e:
        raise OutputError(f"cannot write to {parent}: {os.strerror(e.errno or errno.EIO)}") from e
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: PathLike, data: bytes, protect: Iterable[PathLike] = ()) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_output`."""
    with atomic_output(path, protect) as tmp:
        try:
            tmp.write_bytes(data)
        except OSError as e:
            raise OutputError(f"cannot write {path}: {os.strerror(e.errno or errno.EIO)}") from e
