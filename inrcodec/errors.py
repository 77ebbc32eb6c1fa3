"""The one exception hierarchy of inrcodec.

Every failure a user can cause (bad input, a corrupt file, an option out of range, a resource
limit) raises a subclass of :class:`InrError` whose message is one line naming the problem. The
CLI prints that line and exits non-zero; anything else escaping is a bug.
"""

from __future__ import annotations


class InrError(Exception):
    """Base class: a one-line, user-facing problem."""

    #: process exit status the CLI uses for this kind of error
    exit_code = 1


class InputError(InrError):
    """The input signal (image, audio, mask) is missing, unreadable or unusable."""


class FormatError(InrError):
    """The data is not a valid .inr file: wrong magic, bad checksum, truncated, malformed header."""


class VersionError(FormatError):
    """The .inr file was written in a format version this decoder does not read."""


class LimitError(InrError):
    """A resource limit (pixels, layers, payload bytes, decode size) would be exceeded."""


class OptionError(InrError):
    """An option value is out of range or options contradict each other."""

    exit_code = 2


class OutputError(InrError):
    """The output cannot be written (missing folder, no permission, would overwrite the input)."""
