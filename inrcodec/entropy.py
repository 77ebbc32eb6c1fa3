"""Entropy coding of integer symbols with constriction's ANS coder, from integer tables only.

Nothing here knows about networks: callers hand in int32 symbol arrays together with a
:class:`SymbolModel` and get bytes back, or the reverse.

Determinism: every probability the decoder uses is an integer count computed by integer
arithmetic from integers stored in the file (a scale index and a symbol range). Floats enter only
as ``counts / counts.sum()``, an exactly rounded IEEE division that every machine performs
identically, which constriction then quantizes with its own deterministic fixed-point code. So a
file decodes to the same integers on every machine.

The parametric model is a zero-mean *discretized Laplace*: for scale b, symbol k has mass
``CDF(k + 1/2) - CDF(k - 1/2)``. With phi = exp(-1/(2b)) this is
``1 - phi`` at k = 0 and ``(phi^(2|k|-1) - phi^(2|k|+1)) / 2`` elsewhere. Scale index s
means b = 2^(s/4 - 5); phi for each s is stored below as a 32-bit fixed-point integer, and powers
are taken in exact integer arithmetic.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from .errors import FormatError

#: round(2**32 * exp(-1 / (2 * 2**(s/4 - 5)))) for scale index s = 0 .. 95. Generated once with
#: math.exp and frozen here, so that no machine ever recomputes it with its own libm.
_PHI_Q32 = (
    483,
    6163,
    52418,
    317125,
    1440801,
    5145013,
    15004422,
    36905875,
    78665070,
    148652826,
    253857248,
    398132550,
    581260615,
    799036310,
    1044178424,
    1307656790,
    1580030169,
    1852521207,
    2117713904,
    2369882518,
    2605029347,
    2820730047,
    3015876649,
    3190386796,
    3344923893,
    3480652712,
    3599040369,
    3701703250,
    3790295335,
    3866431115,
    3931635878,
    3987316692,
    4034748382,
    4075069962,
    4109287957,
    4138284039,
    4162825044,
    4183574096,
    4201101925,
    4215897841,
    4228380000,
    4238904802,
    4247775344,
    4255248918,
    4261543595,
    4266843974,
    4271306145,
    4275061981,
    4278222805,
    4280882540,
    4283120382,
    4285003080,
    4286586875,
    4287919135,
    4289039749,
    4289982295,
    4290775039,
    4291441769,
    4292002499,
    4292474072,
    4292870656,
    4293204170,
    4293484642,
    4293720503,
    4293918848,
    4294085643,
    4294225905,
    4294343854,
    4294443040,
    4294526447,
    4294596584,
    4294655564,
    4294705160,
    4294746866,
    4294781936,
    4294811427,
    4294836226,
    4294857079,
    4294874615,
    4294889361,
    4294901760,
    4294912187,
    4294920955,
    4294928328,
    4294934528,
    4294939742,
    4294944126,
    4294947812,
    4294950912,
    4294953519,
    4294955711,
    4294957554,
    4294959104,
    4294960407,
    4294961503,
    4294962425,
)
NUM_SCALES = len(_PHI_Q32)
_ONE_Q32 = 1 << 32
#: counts are probabilities in units of 2^-24, plus one so every symbol in range stays codable
_COUNT_SHIFT = 8
#: the widest symbol range one table may span (bounds memory and table-building time)
MAX_TABLE_SYMBOLS = 1 << 17
#: the largest symbol magnitude a Laplace table may reach. Its probabilities need phi^n for n up to
#: twice the magnitude, from a sequential recurrence, so this bounds the table-building time too.
MAX_SYMBOL = 1 << 17
#: tables of up to this many symbols are memoised; wider ones (rare) are rebuilt each time, so
#: that the caches stay within a few tens of MB whatever the input
_CACHED_SPAN = 1024


def laplace_scale(index: int) -> float:
    """The Laplace scale b that scale index index stands for (for documentation and fitting)."""
    return 2.0 ** (index / 4 - 5)


def check_table(lo: int, hi: int, max_symbol: int, what: str = "entropy table") -> None:
    """Refuse a symbol range lo..hi that is empty, wider than a table may be, or reaches beyond
    +-max_symbol. Encoder and decoder both call this, so they agree on what is codable."""
    if hi < lo:
        raise FormatError(f"{what} range {lo}..{hi} is empty")
    if hi - lo + 1 > MAX_TABLE_SYMBOLS:
        raise FormatError(f"{what} range {lo}..{hi} spans more than {MAX_TABLE_SYMBOLS} symbols")
    if max(-lo, hi) > max_symbol:
        raise FormatError(f"{what} range {lo}..{hi} reaches beyond +-{max_symbol}")


def _check_scale(scale_index: int) -> None:
    if not 0 <= scale_index < NUM_SCALES:
        raise FormatError(f"entropy scale index {scale_index} out of range 0..{NUM_SCALES - 1}")


#: (Q bits, base) -> the powers found so far by :func:`_powers`
_POWERS: dict[tuple[int, int], list[int]] = {}


def _powers(base: int, bits: int, n: np.ndarray) -> np.ndarray:
    """base^n in Q(bits) by the rounded recurrence p[k+1] = (p[k] base + 2^(bits-1)) >> bits,
    p[0] = 2^bits, for every entry of ``n`` (>= 0).

    The recurrence is sequential, so its prefix is computed once per base and extended only as
    far as a table needs (a fitted file's tables reach n of a few hundred; running every
    recurrence to its bound up front took half a second of a small decode). The sequence never
    increases and may reach a fixed point, where it stops: every later power is that value,
    exactly.
    """
    powers = _POWERS.setdefault((bits, base), [1 << bits])
    need = int(n.max(initial=0))
    half = 1 << (bits - 1)
    while len(powers) <= need:
        nxt = (powers[-1] * base + half) >> bits
        if nxt == powers[-1]:
            break
        powers.append(nxt)
    array = np.array(powers, dtype=np.int64)
    return array[np.minimum(n, len(array) - 1)]


def _phi_power(scale_index: int, n: np.ndarray) -> np.ndarray:
    """phi^n in Q32 (n up to 2 * MAX_SYMBOL + 1: check_table bounds the symbols)."""
    return _powers(_PHI_Q32[scale_index], 32, n)


def laplace_counts(scale_index: int, lo: int, hi: int) -> np.ndarray:
    """Integer frequency table of the discretized Laplace over symbols lo..hi (inclusive)."""
    _check_scale(scale_index)
    check_table(lo, hi, MAX_SYMBOL)
    if hi - lo < _CACHED_SPAN:
        return _laplace_counts_cached(scale_index, lo, hi)
    return _laplace_counts(scale_index, lo, hi)


def _laplace_counts(scale_index: int, lo: int, hi: int) -> np.ndarray:
    k = np.arange(lo, hi + 1, dtype=np.int64)
    a = np.abs(k)
    tails = (_phi_power(scale_index, np.maximum(2 * a - 1, 0)) - _phi_power(scale_index, 2 * a + 1)) >> 1
    mass = np.where(k == 0, _ONE_Q32 - _PHI_Q32[scale_index], tails)
    return (mass >> _COUNT_SHIFT) + 1


_laplace_counts_cached = functools.lru_cache(maxsize=512)(_laplace_counts)


def best_scale_index(symbols: np.ndarray) -> int:
    """The scale index whose table codes symbols in the fewest bits."""
    q = np.asarray(symbols, dtype=np.int64).ravel()
    lo, hi = int(q.min()), int(q.max())
    if lo == hi:
        return 0
    values, freq = np.unique(q, return_counts=True)
    mean_abs = max(float(np.mean(np.abs(q))), 1e-3)
    guess = int(round(4 * (math.log2(mean_abs) + 5)))
    best, best_bits = 0, math.inf
    for s in range(max(0, guess - 6), min(NUM_SCALES, guess + 7)):
        counts = laplace_counts(s, lo, hi).astype(np.float64)
        p = counts[values - lo] / counts.sum()
        bits = -float(np.sum(freq * np.log2(p)))
        if bits < best_bits:
            best, best_bits = s, bits
    return best


#: round(2**30 * exp(-1 / (32 * 2**(s/4 - 5)))): the Laplace decay over 1/32 of a symbol, for the
#: shifted (non-zero-mean) tables that context-adaptive coders use. Frozen like _PHI_Q32.
_PSI_Q30 = (
    395007542,
    463130302,
    529428476,
    592470630,
    651257337,
    705182512,
    753969162,
    797596699,
    836230973,
    870163178,
    899760092,
    925425813,
    947573834,
    966607779,
    982908970,
    996829173,
    1008687096,
    1018767490,
    1027321989,
    1034571010,
    1040706261,
    1045893524,
    1050275481,
    1053974460,
    1057095000,
    1059726201,
    1061943836,
    1063812229,
    1065385899,
    1066710993,
    1067826536,
    1068765495,
    1069555701,
    1070220635,
    1070780095,
    1071250770,
    1071646719,
    1071979784,
    1072259937,
    1072495574,
    1072693760,
    1072860442,
    1073000625,
    1073118518,
    1073217664,
    1073301043,
    1073371160,
    1073430126,
    1073479712,
    1073521411,
    1073556476,
    1073585964,
    1073610760,
    1073631612,
    1073649146,
    1073663891,
    1073676290,
    1073686716,
    1073695484,
    1073702857,
    1073709056,
    1073714270,
    1073718654,
    1073722340,
    1073725440,
    1073728047,
    1073730239,
    1073732082,
    1073733632,
    1073734935,
    1073736031,
    1073736953,
    1073737728,
    1073738380,
    1073738928,
    1073739389,
    1073739776,
    1073740102,
    1073740376,
    1073740606,
    1073740800,
    1073740963,
    1073741100,
    1073741215,
    1073741312,
    1073741393,
    1073741462,
    1073741520,
    1073741568,
    1073741609,
    1073741643,
    1073741672,
    1073741696,
    1073741716,
    1073741733,
    1073741748,
)
#: predicted means are given in 1/16 of a symbol
MEAN_UNITS = 16
#: the largest residual magnitude a shifted table may reach (latents are a few units in practice).
#: Its probabilities need psi^n for n up to 32 times the magnitude, from a sequential recurrence.
MAX_SHIFTED_SYMBOL = 1 << 10


def shifted_laplace_counts(scale_index: int, mean_frac: int, lo: int, hi: int) -> np.ndarray:
    """Integer table of a discretized Laplace centred at mean_frac/16 (in -8..7), over lo..hi.

    Symbol r's bin [r - 1/2, r + 1/2] lies at distances L..U from the mean, in 1/32 units
    (L = 32 r - 2 mean_frac - 16, U = L + 32). Its mass is (e^-L/32b - e^-U/32b)/2 right of the mean,
    the mirror image left of it, and 1 - (e^-U/32b + e^+L/32b)/2 for the bin holding the mean.
    """
    _check_scale(scale_index)
    if not -MEAN_UNITS // 2 <= mean_frac < MEAN_UNITS // 2:
        raise FormatError(f"mean offset {mean_frac} out of range")
    check_table(lo, hi, MAX_SHIFTED_SYMBOL, "latent residual")
    return _shifted_rows(scale_index, lo, hi)[mean_frac + MEAN_UNITS // 2].copy()


#: per scale index, the counts of every mean fraction over residuals -R..R (see _shifted_rows)
_SHIFTED_BLOCKS: dict[int, np.ndarray] = {}
#: the smallest R a block is built for: fitted latents' residuals stay within a few units
_SHIFTED_MIN_REACH = 32


def _shifted_rows(scale_index: int, lo: int, hi: int) -> np.ndarray:
    """(MEAN_UNITS, hi - lo + 1): every mean fraction's counts over lo..hi at one scale.

    A symbol's count depends on its value, the scale and the mean fraction only, not on the
    range, so one block per scale over -R..R serves every range within it (a tiled file's tiles
    and levels each have their own range: building tables per range was most of a 24 MP
    decode). R at least doubles when a wider range comes, so a block is rebuilt a few times at
    most; all blocks together stay below 25 MB (MAX_SHIFTED_SYMBOL)."""
    reach = max(-lo, hi)
    block = _SHIFTED_BLOCKS.get(scale_index)
    if block is None or block.shape[1] < 2 * reach + 1:
        old = 0 if block is None else block.shape[1] // 2
        r = min(MAX_SHIFTED_SYMBOL, max(reach, 2 * old, _SHIFTED_MIN_REACH))
        block = _shifted_counts(scale_index, np.arange(-MEAN_UNITS // 2, MEAN_UNITS // 2), -r, r)
        _SHIFTED_BLOCKS[scale_index] = block
    r = block.shape[1] // 2
    return block[:, lo + r : hi + r + 1]


def _shifted_counts(scale_index: int, mean_fracs: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """The counts (len(mean_fracs), hi - lo + 1) of :func:`shifted_laplace_counts`."""
    r = np.arange(lo, hi + 1, dtype=np.int64)
    lower = 32 * r[None, :] - 2 * mean_fracs[:, None] - 16
    upper = lower + 32

    def e(n: np.ndarray) -> np.ndarray:  # psi^n in Q30 for n >= 0 (negative n are masked out below)
        return _powers(_PSI_Q30[scale_index], 30, np.clip(n, 0, None))

    one = np.int64(1 << 30)
    right = (e(lower) - e(upper)) >> 1
    left = (e(-upper) - e(-lower)) >> 1
    middle = one - (e(upper) >> 1) - (e(-lower) >> 1)
    mass = np.where(lower >= 0, right, np.where(upper <= 0, left, middle))
    return (mass >> 6) + 1


@dataclass(frozen=True)
class SymbolModel:
    """A distribution over the symbols lo..hi, as integer counts."""

    lo: int
    hi: int
    counts: np.ndarray  # int64, length hi - lo + 1

    @classmethod
    def laplace(cls, scale_index: int, lo: int, hi: int) -> SymbolModel:
        return cls(lo, hi, laplace_counts(scale_index, lo, hi))

    @classmethod
    def shifted_laplace(cls, scale_index: int, mean_frac: int, lo: int, hi: int) -> SymbolModel:
        return cls(lo, hi, shifted_laplace_counts(scale_index, mean_frac, lo, hi))

    @property
    def trivial(self) -> bool:
        """A single possible symbol: nothing needs coding."""
        return self.lo == self.hi

    def _categorical(self):
        import constriction

        probabilities = self.counts.astype(np.float64) / float(self.counts.sum())
        return constriction.stream.model.Categorical(probabilities, perfect=False)

    def ideal_bits(self, symbols: np.ndarray) -> float:
        """-log2 P(symbols): the size an ideal coder would reach, in bits."""
        if self.trivial:
            return 0.0
        p = self.counts.astype(np.float64) / float(self.counts.sum())
        return -float(np.sum(np.log2(p[np.asarray(symbols, dtype=np.int64) - self.lo])))


class ShiftedLaplaceBank:
    """Every ``shifted_laplace`` table over one residual range lo..hi, indexed by a key
    ``scale_index * MEAN_UNITS + mean_frac + MEAN_UNITS // 2``: what a coder with one model per
    symbol looks its tables up in. Tables are built the first time a key is asked for."""

    def __init__(self, lo: int, hi: int) -> None:
        check_table(lo, hi, MAX_SHIFTED_SYMBOL, "latent residual")
        self.lo, self.hi = lo, hi
        self._rows = np.zeros((NUM_SCALES * MEAN_UNITS, hi - lo + 1))
        self._built = np.zeros(NUM_SCALES * MEAN_UNITS, dtype=bool)

    @staticmethod
    def key(scale_index: np.ndarray, mean_frac: np.ndarray) -> np.ndarray:
        return scale_index * MEAN_UNITS + mean_frac + MEAN_UNITS // 2

    @property
    def trivial(self) -> bool:
        return self.lo == self.hi

    def rows(self, keys: np.ndarray) -> np.ndarray:
        """The tables of ``keys``, one row each: integer counts held exactly in float64, which
        constriction normalises with its own deterministic arithmetic."""
        missing = keys[~self._built[keys]]
        for scale in np.unique(missing // MEAN_UNITS) if missing.size else ():
            _check_scale(int(scale))
            at = slice(scale * MEAN_UNITS, (scale + 1) * MEAN_UNITS)
            self._rows[at] = _shifted_rows(int(scale), self.lo, self.hi)  # every fraction at once
            self._built[at] = True
        return self._rows[keys]


#: table entries (symbols x range) one constriction call may take when each symbol has its own
#: table: bounds the tables' memory (8 MB of float64) whatever the range
_TABLE_VALUES_PER_CALL = 1 << 20


def rows_per_call(span: int) -> int:
    """Symbols per constriction call when each has its own table of ``span`` entries."""
    return max(1, min(1 << 14, _TABLE_VALUES_PER_CALL // max(1, span)))


@functools.cache
def _categorical_family():
    """constriction's categorical model family, whose tables come with each call (one per symbol);
    built once, as the decoder asks for it on every wavefront."""
    import constriction

    return constriction.stream.model.Categorical(perfect=False)


def _offset_symbols(symbols: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Symbols lo..hi as the table indices 0..hi-lo the coder takes, or a ValueError."""
    q = np.ascontiguousarray(symbols, dtype=np.int64).ravel()
    if q.size and (q.min() < lo or q.max() > hi):
        raise ValueError(f"symbols outside the model range {lo}..{hi}")
    return (q - lo).astype(np.int32)


class StreamEncoder:
    """Collects chunks of symbols, each chunk under one model or with one table per symbol;
    :meth:`finish` codes them into one ANS stream."""

    def __init__(self) -> None:
        self._chunks: list[tuple[np.ndarray, SymbolModel | tuple[np.ndarray, ShiftedLaplaceBank]]] = []

    def add(self, symbols: np.ndarray, model: SymbolModel) -> None:
        q = _offset_symbols(symbols, model.lo, model.hi)
        if q.size and not model.trivial:
            self._chunks.append((q, model))

    def add_rows(self, symbols: np.ndarray, keys: np.ndarray, bank: ShiftedLaplaceBank) -> None:
        """Add symbols that each have their own table: ``bank``'s table ``keys[i]`` for symbol i."""
        q = _offset_symbols(symbols, bank.lo, bank.hi)
        if q.size and not bank.trivial:
            self._chunks.append((q, (np.asarray(keys).ravel(), bank)))

    def finish(self) -> bytes:
        import constriction

        coder = constriction.stream.stack.AnsCoder()
        # ANS is a stack: encode in reverse so that the decoder reads chunks in forward order.
        for symbols, model in reversed(self._chunks):
            if isinstance(model, SymbolModel):
                coder.encode_reverse(symbols, model._categorical())
                continue
            keys, bank = model
            rows = rows_per_call(bank.hi - bank.lo + 1)
            for a in reversed(range(0, len(symbols), rows)):
                part = slice(a, a + rows)
                coder.encode_reverse(symbols[part], _categorical_family(), bank.rows(keys[part]))
        return coder.get_compressed().astype("<u4").tobytes()


class StreamDecoder:
    """Reads chunks back in the order they were added to the encoder."""

    def __init__(self, data: bytes) -> None:
        import constriction

        if len(data) % 4:
            raise FormatError(f"payload length {len(data)} is not a whole number of 32-bit words")
        words = np.frombuffer(data, dtype="<u4").astype(np.uint32)
        try:
            self._coder = constriction.stream.stack.AnsCoder(words)
        except (ValueError, RuntimeError) as e:
            raise FormatError(f"corrupt entropy-coded payload: {e}") from None

    def read(self, n: int, model: SymbolModel) -> np.ndarray:
        """Decode n symbols distributed as model, as int64."""
        if n == 0 or model.trivial:
            return np.full(n, model.lo, dtype=np.int64)
        return self._decode(model._categorical(), n) + model.lo

    def read_rows(self, keys: np.ndarray, bank: ShiftedLaplaceBank) -> np.ndarray:
        """Decode one symbol per key, each with ``bank``'s table of that key, as int64."""
        if len(keys) == 0 or bank.trivial:
            return np.full(len(keys), bank.lo, dtype=np.int64)
        rows = rows_per_call(bank.hi - bank.lo + 1)
        if len(keys) <= rows:
            return self._decode(_categorical_family(), bank.rows(keys)) + bank.lo
        # The symbols come off the stream one at a time: reading them in pieces reads the same.
        parts = [self._decode(_categorical_family(), bank.rows(keys[a : a + rows])) for a in range(0, len(keys), rows)]
        return np.concatenate(parts) + bank.lo

    def _decode(self, *model_args) -> np.ndarray:
        try:
            out = self._coder.decode(*model_args)
        except BaseException as e:  # constriction reports some bad input as a Rust panic
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            raise FormatError(f"corrupt entropy-coded payload: {type(e).__name__}") from None
        return out.astype(np.int64)

    def finish(self) -> None:
        """Check that the whole stream was consumed, as it is for every valid file."""
        if not self._coder.is_empty():
            raise FormatError("entropy-coded payload has data left over after the last symbol")
