"""``python -m inrcodec``: the same as the ``inrcodec`` command."""

from inrcodec.cli import run

if __name__ == "__main__":
    run(prog_name="inrcodec")
