"""The ``inrcodec`` command line: thin click commands over the Python API.

Each submodule registers the commands of one area on :data:`main`. Nothing here computes
anything the API lacks; commands parse options, call the API, and print. Errors that a user can
cause arrive as :class:`~inrcodec.errors.InrError` and are printed as one line on stderr with a
non-zero exit; ``--debug`` shows the traceback instead. Usage errors that click finds (a bad
value, an unknown option, a missing argument) are one line too, ``inrcodec: error: ...``, with
exit status 2, and a few options users bring from other tools get a hint (:data:`HINTS`).
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
from typing import ClassVar

import click

from ..errors import InrError

#: the exit status of an interrupted command (128 + SIGINT, as shells report it)
INTERRUPTED = 130

#: (command, unknown option) -> what to say instead of "no such option"
HINTS = {
    ("encode", "--width"): "encode has no --width (the layer width is --layer-width; output size is chosen at decode)",
    ("encode", "-q"): "inrcodec has no quality scale; use --bpp or --size",
    ("encode", "--quality"): "inrcodec has no quality scale; use --bpp or --size",
}

# click >= 8.2 raises this for a bare group (``inrcodec``): it shows the help, which must stay.
_SHOWS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


class UsageLine(click.UsageError):
    """A usage error shown as one line on stderr, ``inrcodec: error: ...`` (exit status 2),
    instead of click's Usage / Try / Error block."""

    def show(self, file=None) -> None:
        click.echo(f"inrcodec: error: {self.message}", file=file, err=file is None)


def one_line(error: click.UsageError) -> click.UsageError:
    """``error`` as a :class:`UsageLine`: a hint where :data:`HINTS` has one, else click's own
    message (lower-cased, without its trailing full stop) and where to find the command's help."""
    if isinstance(error, (UsageLine, _SHOWS_HELP)):
        return error
    ctx = error.ctx
    command = ctx.command.name if ctx is not None else None
    hint = HINTS.get((command, getattr(error, "option_name", None)))
    if hint is not None:
        return UsageLine(hint, ctx)
    message = " ".join(error.format_message().split()).replace(". (", " (")
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    message = message.replace(" (Did you mean", " (did you mean").replace(" (Possible options", " (possible options")
    if message.endswith(".") and not message.endswith(".."):
        message = message[:-1]
    if ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    return UsageLine(message, ctx)


class _Group(click.Group):
    """A click group that turns inrcodec errors and interrupts into one-line messages."""

    #: the arguments of the current invocation, for records such as a benchmark's command.txt
    arguments: ClassVar[list[str]] = []

    def main(self, args=None, prog_name=None, **extra):
        _Group.arguments = list(sys.argv[1:] if args is None else args)
        return super().main(args=args, prog_name=prog_name, **extra)

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as e:  # the group's own options: ``inrcodec --frob``
            raise one_line(e) from None

    def invoke(self, ctx: click.Context):
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except click.UsageError as e:  # an unknown command, or a command's options and arguments
            raise one_line(e) from None
        except InrError as e:
            if debug:
                raise
            click.echo(f"inrcodec: error: {e}", err=True)
            ctx.exit(e.exit_code)
        except KeyboardInterrupt:
            if debug:
                raise
            click.echo("inrcodec: interrupted", err=True)
            ctx.exit(INTERRUPTED)


def invocation() -> str:
    """The command line of this invocation, as a user would type it."""
    return shlex.join(["inrcodec", *_Group.arguments])


def run(prog_name: str = "inrcodec") -> None:
    """The ``inrcodec`` command: :data:`main`, then a quick exit after an interrupt.

    By the time an interrupt reaches the top, the interrupted work has unwound and removed its
    temporary files; tearing down torch would still take a second or more, so the process ends
    at once (after flushing its output) instead.
    """
    try:
        main(prog_name=prog_name)
    except SystemExit as e:
        if e.code == INTERRUPTED:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(INTERRUPTED)
        raise


def _sigterm_to_interrupt(signum, frame):  # pragma: no cover - exercised through a subprocess
    # SIGTERM would otherwise kill the process before temporary files are removed.
    raise KeyboardInterrupt


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(package_name="inrcodec")
def main(debug: bool) -> None:
    """inrcodec: images and audio stored as small neural networks (.inr files)."""
    if sys.platform != "win32":
        signal.signal(signal.SIGTERM, _sigterm_to_interrupt)


# Each module adds its commands to ``main`` on import (so after ``main`` exists); one per area:
# apps (upscale, denoise, inpaint), bench (bench, plot), codec (encode, decode, info, demo).
from . import apps, bench, codec  # noqa: E402, F401
