"""The bad-input corpus (tests/data/bad/): each nasty input, the command it goes through, and the
one line it must end in. Failures exit non-zero with one ``inrcodec: error:`` line and leave no
output or temporary file; the few inputs that are merely unusual encode with a notice.

``python -m tests.test_bad_inputs`` prints the table with the messages observed, for
docs/reliability.md.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from inrcodec.cli import main

BAD = Path(__file__).resolve().parent / "data" / "bad"
FAST = ["--steps", "5", "--quiet"]


@dataclass(frozen=True)
class Case:
    name: str  # what the input is
    file: str | None  # in tests/data/bad (None: a directory)
    args: tuple[str, ...]  # after the input path; {out} is the output path
    expect: str  # a fragment of the last stderr line
    code: int  # exit status
    out: str = "out.inr"


CASES = [
    Case("empty .inr", "empty.inr", ("decode", "-o", "{out}"), "file is empty (0 bytes)", 1, "o.png"),
    Case("zero-byte PNG", "empty.png", ("encode", "-o", "{out}", *FAST), "image file is empty (0 bytes)", 1),
    Case("truncated PNG", "truncated.png", ("encode", "-o", "{out}", *FAST), "image is truncated or corrupt", 1),
    Case("PNG bomb (100 000 x 100 000, 69 bytes)", "bomb.png", ("encode", "-o", "{out}", *FAST), "image too large", 1),
    Case("JPEG in CMYK", "cmyk.jpg", ("encode", "-o", "{out}", *FAST), "note: CMYK image converted to RGB", 0),
    Case("16-bit grayscale PNG", "sixteen_bit.png", ("encode", "-o", "{out}", *FAST), "out.inr: ", 0),
    Case("1 x 1 image", "one_pixel.png", ("encode", "-o", "{out}", "--size", "400", *FAST), "out.inr: ", 0),
    Case(
        "animated GIF",
        "animated.gif",
        ("encode", "-o", "{out}", *FAST),
        "note: animated.gif has 3 frames; encoding the first only",
        0,
    ),
    Case("WAV with zero frames", "zero_frames.wav", ("encode", "-o", "{out}", *FAST), "audio file has no samples", 1),
    Case("WAV with NaN samples", "nan.wav", ("encode", "-o", "{out}", *FAST), "has 100 NaN or infinite samples", 1),
    Case("text file named .png", "text.png", ("encode", "-o", "{out}", *FAST), "not an image Pillow can read", 1),
    Case("directory as input", None, ("encode", "-o", "{out}", *FAST), "image is a directory, not a file", 1),
    Case(
        "output in a missing folder",
        "one_pixel.png",
        ("encode", "-o", "missing/out.inr", *FAST),
        "output folder does not exist",
        1,
    ),
    Case(
        "output without write permission",
        "one_pixel.png",
        ("encode", "-o", "locked/out.inr", *FAST),
        "permission denied",
        1,
    ),
    Case(
        "encode onto its own input",
        "one_pixel.png",
        ("encode", "-o", "{input}", *FAST),
        "refusing to overwrite the input file",
        1,
    ),
    Case(
        ".inr with a wrong magic",
        "wrong_magic.inr",
        ("decode", "-o", "{out}"),
        "not an .inr file (wrong magic bytes)",
        1,
        "o.png",
    ),
    Case(
        ".inr from a future version",
        "future_version.inr",
        ("decode", "-o", "{out}"),
        "unsupported format version 3.1 (this inrcodec reads 1.x and 2.x)",
        1,
        "o.png",
    ),
    Case(
        ".inr with a bad CRC",
        "bad_crc.inr",
        ("decode", "-o", "{out}"),
        "checksum mismatch: the file is corrupt",
        1,
        "o.png",
    ),
    Case(
        "valid CRC, 10^9 x 10^9 pixels",
        "huge_image_valid_crc.inr",
        ("decode", "-o", "{out}"),
        "exceeds the limit of 134217728 (max_output_pixels / --max-pixels)",
        1,
        "o.png",
    ),
    Case(
        "valid CRC, 10^6 layers",
        "million_layers_valid_crc.inr",
        ("info",),
        "model layers 1000001 exceeds the limit of 256 (max_layers)",
        1,
    ),
    Case(
        "valid CRC, unknown model family",
        "unknown_family_valid_crc.inr",
        ("decode", "-o", "{out}"),
        "unknown model family 9",
        1,
        "o.png",
    ),
    Case(
        "valid CRC, 2^31 Hz audio",
        "absurd_rate_valid_crc.inr",
        ("decode", "-o", "{out}"),
        "header field sample rate = 2147483647 exceeds 768000",
        1,
        "o.wav",
    ),
    # issue 14: hostile header values behind valid CRCs, and the encoder's own bounds
    Case(
        "valid CRC, 16-bit RGB",
        "rgb16_valid_crc.inr",
        ("decode", "-o", "{out}"),
        "16-bit depth is for grayscale (colour mode 1) only, header has colour mode 3",
        1,
        "o.png",
    ),
    Case(
        "valid CRC, 84 bytes, context network 256 wide on 1000 x 1000",
        "context_256_valid_crc.inr",
        ("decode", "-o", "{out}", "--max-memory", "128"),
        "exceeds the limit of 134217728 (max_memory / --max-memory)",
        1,
        "o.png",
    ),
    Case(
        "valid CRC, 83 bytes, 10^6 rows of 1 pixel",
        "tall_grid_valid_crc.inr",
        ("decode", "-o", "{out}", "--max-work", "0.1"),
        "exceeds the limit of 100000000 (max_work / --max-work)",
        1,
        "o.png",
    ),
    Case(
        "PNG bomb with truncated data (12 000 x 12 000, 173 bytes)",
        "truncated_bomb.png",
        ("encode", "-o", "{out}", *FAST),
        "its PNG image data ends after 96008 of 144012000 bytes",
        1,
    ),
    Case(
        "float TIFF with one +inf",
        "float_inf.tif",
        ("encode", "-o", "{out}", *FAST),
        "has 1 NaN or infinite samples",
        1,
    ),
    Case("WAV with one sample", "one_sample.wav", ("encode", "-o", "{out}", *FAST), "out.inr: ", 0),
    Case(
        "output naming a folder",
        "one_pixel.png",
        ("encode", "-o", "out.inr/", *FAST),
        "'out.inr/' ends in '/', so it names a folder",
        2,
    ),
    Case(
        "SIREN 100 000 wide",
        "one_pixel.png",
        ("encode", "-o", "{out}", "--model", "siren", "--layer-width", "100000", *FAST),
        "exceeds the limit of 50000000 (max_parameters / decode --max-params)",
        1,
    ),
    Case(
        "SIREN 100 000 deep",
        "one_pixel.png",
        ("encode", "-o", "{out}", "--model", "siren", "--depth", "100000", *FAST),
        "model layers 100001 exceeds the limit of 256 (max_layers)",
        1,
    ),
    Case(
        "encode over --max-memory",
        "one_pixel.png",
        ("encode", "-o", "{out}", "--max-memory", "16", *FAST),
        "over the limit of 16 MiB (max_encode_memory / --max-memory)",
        1,
    ),
    Case(
        "seed beyond 64 bits",
        "one_pixel.png",
        ("encode", "-o", "{out}", "--seed", "99999999999999999999999", *FAST),
        "--seed must be a whole number in 0..2^63-1",
        2,
    ),
    Case(
        "--max-work inf",
        "../../fuzz/seeds/grid_rgb.inr",
        ("decode", "-o", "{out}", "--max-work", "inf"),
        "--max-work must be a positive number, got inf",
        2,
        "o.png",
    ),
    Case(
        "--threads -3",
        "../../fuzz/seeds/grid_rgb.inr",
        ("decode", "-o", "{out}", "--threads", "-3"),
        "threads must be at least 1, got -3",
        2,
        "o.png",
    ),
    Case(
        "decode scale 1000",
        "../../fuzz/seeds/grid_rgb.inr",
        ("decode", "-o", "{out}", "--scale", "1000"),
        "pixels exceeds the limit of 134217728",
        1,
        "o.png",
    ),
]


def run_case(case: Case, folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[str], Path]:
    """Run one case in ``folder``; (exit status, stderr lines, output path)."""
    if case.file is None:
        src = folder / "a_folder"
        src.mkdir()
    else:
        src = folder / Path(case.file).name
        shutil.copyfile(BAD / case.file, src)
    (folder / "locked").mkdir()
    out = folder / case.out

    real_access = os.access

    def access(path, mode, *a, **k):  # root ignores permissions: simulate a read-only folder
        if Path(path).name == "locked" and mode & os.W_OK:
            return False
        return real_access(path, mode, *a, **k)

    monkeypatch.setattr("inrcodec.io.files.os.access", access)
    monkeypatch.chdir(folder)
    args = [a.format(out=out, input=src) for a in case.args]
    result = CliRunner().invoke(main, [args[0], str(src), *args[1:]])
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    if result.exit_code:
        assert len(lines) == 1, result.stderr  # one line, whatever went wrong
    return result.exit_code, lines, out


def key_line(case: Case, code: int, lines: list[str]) -> str:
    """The error of a failure; else the first line the case expects (a notice, or the summary)."""
    return lines[-1] if code else next((ln for ln in lines if case.expect in ln), lines[0])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input(case, tmp_path, monkeypatch):
    before = (BAD / case.file).read_bytes() if case.file else None
    code, lines, out = run_case(case, tmp_path, monkeypatch)
    assert code == case.code, lines
    assert any(case.expect in line for line in lines), lines
    if code:
        assert lines[0].startswith("inrcodec: error: ")
        assert not out.exists()
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    if not code:
        assert out.stat().st_size > 0
    if case.file:  # the input is never touched
        assert (tmp_path / Path(case.file).name).read_bytes() == before


def table() -> str:
    """The corpus as a markdown table with the messages observed now."""
    import tempfile

    rows = ["| input | file | command | exit | observed message |", "|---|---|---|---|---|"]
    with pytest.MonkeyPatch.context() as mp:
        for case in CASES:
            with tempfile.TemporaryDirectory() as tmp:
                code, lines, _ = run_case(case, Path(tmp), mp)
            line = key_line(case, code, lines).replace(tmp, "…")
            args = [a.format(out=case.out, input=case.file) for a in case.args if a not in FAST]
            command = " ".join(args)
            file = f"`{Path(case.file).name}`" if case.file else "(a folder)"
            rows.append(f"| {case.name} | {file} | `{command}` | {code} | `{line}` |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
