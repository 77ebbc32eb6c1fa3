"""Public test image sets the benchmark can fetch: the 24 Kodak PNGs.

Files are downloaded once from their public URL into a cache folder, each checked against its
known SHA-256, and written atomically, so a cached file is always a verified one.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import InputError, OptionError, OutputError
from ..io.files import write_bytes_atomic

KODAK_URL = "http://r0k.us/graphics/kodak/kodak/"

#: SHA-256 of each Kodak PNG at KODAK_URL (taken from the project's reference copies)
KODAK_SHA256: dict[str, str] = {
    "kodim01.png": "6b4fbe6f3e8e0e20150d5b0c32248bf072e22b5989d415f96f796c5b7004a70f",
    "kodim02.png": "1788370471429d992750a09caf6702ac74e56962447de02520d4b161738c0369",
    "kodim03.png": "b9c800ee568f0b18c983817df08d9f7f24a7ddb3abfdc31bde9234c4fde83137",
    "kodim04.png": "0c60c62599ad33fd78b29c36013fbe4120946f6c327c0ef0ec6983297fb48d23",
    "kodim05.png": "ccf694ceb6bbf431e0009ed0d5573a8ff0915095b69ddfb527b91d8325897f5e",
    "kodim06.png": "f4212cc927d1d579c712843cf8320c7eccb571e5ea80456022ffe99d67e9cd5d",
    "kodim07.png": "7cdd6d63ae0a245f6f9d983d740e11c6808c2efc24f8351aad9b5f676c27b55a",
    "kodim08.png": "5a6a089bdb47605287c00d89ebf2a5312981eb998c94b5853d917c93a9066cdb",
    "kodim09.png": "4d8d801592aeaf446978bbd1c83b76c498242d0f684769311a4e7248289500bf",
    "kodim10.png": "7aca487dc83db732a5690b7affe8558e9dadf5bb44a4589ba2b607480a07228b",
    "kodim11.png": "c7c02bd6e942d1181518e3ce2d97cf0451e4494a5e9d6ddee276940e4875d746",
    "kodim12.png": "df571f5e66d1aefd764ea77855e81e3be61528c34962a0fd1d50557502162c1e",
    "kodim13.png": "797949ce1152ef157ff0a1231c95cb8ed7641615e0b0f5f77f851a44aee19e8d",
    "kodim14.png": "08a1898d5702f32e7d9f94a94651d74a62cb9325475775a558b388c8d98f1846",
    "kodim15.png": "416c475f39b0eb9203ce7f77d2af8824f5bffc1a86a4605865017f04c41639b9",
    "kodim16.png": "5d03303693decdf7a1e1e930b5ca6684283aa80a9e7d8d6a842a74fa5f790640",
    "kodim17.png": "19d90e98e5835efae20a6e17e22e5ac6814ee2c8efb32d188ea4359abaf9f5bd",
    "kodim18.png": "83df267dfec61e9b9d3756c422502160b2fab595650c73a8b12940540ad09ec5",
    "kodim19.png": "86560efe85a13413b228ef7e42dde0d439b25a94fb8e2d6fb1dc1631cf48853b",
    "kodim20.png": "1ae187d92b3a4483b6717f7fd08592846ffdfc340c6424f6756627a27f3d8ea7",
    "kodim21.png": "26e193795108c4b5ec47206ae4ff07a353d2492947f7a7ae8d380e042b74027b",
    "kodim22.png": "627b76fccf714b4ddffb739b2eb63ba2817cf5b5a8e222079542dcf2cfdda939",
    "kodim23.png": "85c67d7ea758cb0604fb6980ab0c65091a2eefa7b3b50cbb1bc702a60206dfe5",
    "kodim24.png": "9f1c26df52217bd49f998a720a2ffeba41a535cf826f4ae32e355fb2b0bbc0fe",
}

DATASETS = ("kodak",)

#: called after each file with (done, total, file name)
DownloadProgress = Callable[[int, int, str], None]


def default_cache_dir() -> Path:
    """``$INRCODEC_CACHE``, else ``$XDG_CACHE_HOME/inrcodec``, else ``~/.cache/inrcodec``."""
    if os.environ.get("INRCODEC_CACHE"):
        return Path(os.environ["INRCODEC_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "inrcodec"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _is_verified(path: Path, digest: str) -> bool:
    try:
        return _sha256(path.read_bytes()) == digest
    except OSError:
        return False


def _fetch(url: str, timeout: float = 60.0) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise InputError(f"cannot download {url}: {reason}") from None


def download_kodak(
    cache_dir: str | os.PathLike | None = None,
    base_url: str = KODAK_URL,
    progress: DownloadProgress | None = None,
) -> Path:
    """Make sure the 24 verified Kodak PNGs are in ``<cache>/kodak`` and return that folder."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = folder / "kodak"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create the cache folder {folder}: {e.strerror}") from None
    total = len(KODAK_SHA256)
    for done, (name, digest) in enumerate(sorted(KODAK_SHA256.items()), start=1):
        target = folder / name
        if not _is_verified(target, digest):
            data = _fetch(base_url.rstrip("/") + "/" + name)
            if _sha256(data) != digest:
                raise InputError(f"downloaded {name} does not match its SHA-256; not saved")
            write_bytes_atomic(target, data)
        if progress is not None:
            progress(done, total, name)
    return folder


def is_kodak(paths: Sequence[str | os.PathLike]) -> bool:
    """Whether ``paths`` are the 24 Kodak images, byte for byte (by their SHA-256, whatever the
    files are called): the set the published Kodak curves were measured on."""
    if len(paths) != len(KODAK_SHA256):
        return False
    digests = set()
    for path in paths:
        try:
            digests.add(_sha256(Path(path).read_bytes()))
        except OSError:
            return False
    return digests == set(KODAK_SHA256.values())


def download_dataset(name: str, cache_dir: str | os.PathLike | None = None, **kwargs) -> Path:
    """Fetch a named data set (only 'kodak' for now) and return its folder."""
    if name.lower() != "kodak":
        raise OptionError(f"unknown data set '{name}' (known: {', '.join(DATASETS)})")
    return download_kodak(cache_dir, **kwargs)
