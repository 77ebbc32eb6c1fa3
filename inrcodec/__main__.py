"""``python -m inrcodec``: the same as the ``inrcodec`` command."""

from inrcodec.cli import main

if __name__ == "__main__":
    main(prog_name="inrcodec")
