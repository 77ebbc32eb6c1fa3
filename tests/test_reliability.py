"""Interrupts, resuming from a checkpoint, and decoding that does not depend on the thread count."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import inrcodec
from inrcodec import codec, decoder, runtime
from inrcodec.codec import encode_image
from inrcodec.options import EncodeOptions

from .conftest import smooth_image

SEEDS = sorted((Path(__file__).resolve().parent / "fuzz" / "seeds").glob("*.inr"))


# --- checkpoints -------------------------------------------------------------------------------


class Interrupt:
    """A progress callback that presses Ctrl-C at the first report of ``phase``."""

    def __init__(self, phase: str) -> None:
        self.phase = phase

    def __call__(self, p) -> None:
        if p.phase == self.phase:
            raise KeyboardInterrupt


@pytest.mark.parametrize(
    "model,phase", [("siren", "fit"), ("siren", "quantize"), pytest.param("grid", "fit", marks=pytest.mark.slow)]
)
def test_an_interrupted_encode_resumes_to_the_same_file(tmp_path, model, phase):
    img = smooth_image(16, 16)
    ck = tmp_path / "fit.ckpt"
    # 8 bpp: the grid's header and network alone take 5.2 bpp of a 16 x 16 image
    opts = EncodeOptions(bpp=8.0, steps=240, seed=3, model=model, checkpoint=ck, checkpoint_every=0)
    reference = encode_image(img, replace(opts, checkpoint=None)).data
    with pytest.raises(KeyboardInterrupt):
        encode_image(img, opts, progress=Interrupt(phase))
    assert ck.exists() and not list(tmp_path.glob("*.tmp"))
    resumed = encode_image(img, opts)
    assert resumed.data == reference
    assert any(n.startswith(f"resumed the {phase} phase") for n in resumed.notices)
    assert not ck.exists()  # removed after success


@pytest.mark.slow
def test_a_checkpoint_of_another_encode_is_ignored(tmp_path):
    img = smooth_image(16, 16)
    ck = tmp_path / "fit.ckpt"
    opts = EncodeOptions(bpp=8.0, steps=150, seed=3, checkpoint=ck, checkpoint_every=0)
    with pytest.raises(KeyboardInterrupt):
        encode_image(img, opts, progress=Interrupt("fit"))
    other = encode_image(img, replace(opts, seed=4))
    assert other.data == encode_image(img, replace(opts, seed=4, checkpoint=None)).data
    assert any("another input or options" in n for n in other.notices)
    ck.write_bytes(b"garbage")
    assert any("unreadable" in n for n in encode_image(img, opts).notices)


def test_a_checkpoint_in_a_missing_folder_fails_before_fitting(tmp_path):
    with pytest.raises(inrcodec.OutputError, match="does not exist"):
        encode_image(smooth_image(8, 8), EncodeOptions(steps=5, checkpoint=tmp_path / "no" / "x.ckpt"))


# --- signals -----------------------------------------------------------------------------------


def _wait_for_line(stream, seconds: float) -> str:
    ready, _, _ = select.select([stream], [], [], seconds)
    assert ready, "the encoder printed no progress"
    return stream.readline()


@pytest.mark.slow  # a subprocess per case: starting Python and torch
@pytest.mark.parametrize(
    "model,sig", [("siren", signal.SIGINT), ("grid", signal.SIGTERM)], ids=["siren-SIGINT", "grid-SIGTERM"]
)
def test_a_signal_mid_fit_stops_within_two_seconds_and_leaves_nothing(tmp_path, model, sig):
    src = tmp_path / "in.png"
    Image.fromarray(smooth_image(96, 96)).save(src)
    cmd = [sys.executable, "-m", "inrcodec", "encode", str(src), "-o", str(tmp_path / "out.inr"),
           "--time", "120", "--model", model]  # fmt: skip
    # A runner started in the background (CI scripts often are) ignores SIGINT, and a child
    # inherits that: give the encoder the default disposition, as a terminal would.
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    try:
        first = _wait_for_line(proc.stderr, 120)  # the first progress line: the fit is running
        assert "step" in first, first
        sent = time.monotonic()
        proc.send_signal(sig)
        last = _wait_for_line(proc.stderr, 30)
        stopped = time.monotonic() - sent  # the fit has unwound and cleaned up
        proc.wait(timeout=30)
        exited = time.monotonic() - sent
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert last.strip() == "inrcodec: interrupted" and proc.stderr.read() == ""
    assert stopped < 1.0 and exited < 2.0, f"stopped after {stopped:.2f} s, exited after {exited:.2f} s"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]


# --- determinism -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_decoding_with_one_or_two_threads_agrees(path):
    """Entropy-decoded integers are identical bit for bit; samples differ by at most one step."""
    data = path.read_bytes()
    with runtime.torch_threads(1):
        one = decoder.entropy_decoded(data)
    with runtime.torch_threads(2):
        two = decoder.entropy_decoded(data)
    assert all(np.array_equal(a, b) for a, b in zip(one, two)) and len(one) == len(two)
    if decoder.peek_modality(data) == "image":
        a = codec.decode_image(data, threads=1).pixels.astype(np.int64)
        b = codec.decode_image(data, threads=2).pixels.astype(np.int64)
        assert np.abs(a - b).max() <= 1
    else:
        a, _ = inrcodec.decode_audio(data, threads=1)
        b, _ = inrcodec.decode_audio(data, threads=2)
        assert np.abs(a - b).max() <= 1 / 32768


def test_a_writer_killed_with_sigkill_leaves_its_temporary_file_only_until_the_next_write(tmp_path):
    """SIGKILL runs no cleanup: the hidden temporary file beside the output used to stay forever.
    The next write into that folder removes it (its process is gone); other processes' and other
    programs' files stay."""
    from inrcodec.io.files import write_bytes_atomic

    code = ("import sys, time\nfrom inrcodec.io.files import atomic_output\n"
            "with atomic_output(sys.argv[1]) as tmp:\n"
            "    tmp.write_bytes(b'partial'); print('writing', flush=True); time.sleep(60)\n")  # fmt: skip
    child = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "out.png")], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "writing"
    child.kill()
    child.wait()
    (left,) = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert left.name.startswith(".out.png.") and not (tmp_path / "out.png").exists()
    mine = tmp_path / f".busy.png.x.{left.name.split('.')[-3].split('-')[0]}-{os.getpid()}.inrcodec.tmp"
    mine.write_bytes(b"a write in progress")
    theirs = tmp_path / ".notes.txt.tmp"
    theirs.write_bytes(b"another program's")
    write_bytes_atomic(tmp_path / "other.inr", b"data")
    assert not left.exists() and mine.exists() and theirs.exists()
    assert (tmp_path / "other.inr").read_bytes() == b"data"
