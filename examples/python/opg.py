"""opg - a ctypes binding over libopg's C ABI (python3 standard library only).

    import opg
    with opg.Registry(genesis_supply=10**27) as reg:
        key = opg.Id("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        reg.node_create(operator_id=opg.Id.from_int(1), consensus_key=key,  # Ed25519
                        roles=opg.Role.ALL, commission_rate="0.1", commission_max_rate="1",
                        commission_max_change_rate="0.1", min_self_delegation=1,
                        self_delegation=10**24, height=1, now=5)
        events = reg.end_block(1, 5)

At the surface every value is a plain Python type:
    amounts      int (0 .. 2**256-1), converted to and from opg_u256 limbs
    decimals     decimal.Decimal out; Decimal, str or int in, always through
                 opg_dec_from_string / opg_dec_to_string, so nothing is rounded
    ids          32-byte bytes out (Id, a bytes subclass); bytes or 64 hex digits in
    enums        IntEnum / IntFlag members out; members, ints or names in
    records      dataclasses (NodeInfo, Event, Receipt, ...) built from the C structs

Every non-zero return code raises OpgError (.code, .name, .detail). Handles are
classes with close(), context-manager support and a finaliser; an engine (Splitter,
Slasher, Hyper, Tally) keeps its registry alive, and closing a registry closes its engines
first, so the C rule "free the engines before the registry" always holds.

The library is found, in this order: $OPG_LIBRARY; build/libopg.so of the source tree
this file sits in (examples/python/../../build); the installed libopg.so.0
(ctypes.util.find_library("opg")).
"""

import ctypes
import ctypes.util
import dataclasses
import decimal
import enum
import os
import sys
import weakref
from ctypes import (POINTER, byref, c_char, c_char_p, c_int, c_int64, c_size_t, c_uint8,
                    c_uint32, c_uint64, c_void_p)

__all__ = [
    "OpgError", "version", "version_number", "strerror", "errname", "error_codes",
    "Id", "Role", "NodeStatus", "EventKind", "PricerController", "PricerCombine",
    "EmissionKind", "SlashReason", "VoteType", "EvidenceKind",
    "HyperPolicyKind", "HyperMoveKind", "HyperRouteKind", "ProposalKind", "ProposalStatus", "VoteOption",
    "TallyOutcome", "Registry", "Pricer", "Splitter", "Slasher", "Hyper", "Tally",
    "u256_mul_div", "fake_exponential", "decay_remaining", "vote_sign_bytes",
    "evidence_encode", "evidence_decode", "double_sign_verify",
    "dec_add", "dec_sub", "dec_mul", "dec_mul_truncate", "dec_mul_round_up", "dec_quo",
    "dec_quo_truncate", "dec_quo_round_up", "TIME_FOREVER", "U256_MAX",
    "proof_verify", "app_root", "RECORD_KEY_MAX", "PROOF_MAX_BYTES",
]

# The major version whose struct layouts this module mirrors.
ABI_MAJOR = 0

# ------------------------------------------------------------------ loading

def _candidates():
    env = os.environ.get("OPG_LIBRARY")
    if env:
        return [env]  # an explicit choice is never silently replaced
    here = os.path.dirname(os.path.abspath(__file__))
    out = [os.path.join(here, "..", "..", "build", "libopg.so")]
    found = ctypes.util.find_library("opg")
    if found:
        out.append(found)
    out.append("libopg.so.0")
    return out


def _load():
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append(f"{path}: no such file")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            errors.append(str(e))
    raise ImportError("libopg not found (build it with `make`, or set OPG_LIBRARY): "
                      + "; ".join(errors))


_C, LIBRARY_PATH = _load()

_H = c_void_p  # every opaque handle


def _declare(name, restype, *argtypes):
    """Sets the prototype of one C function; a symbol the library lacks is skipped,
    so an older library still serves the handles it has."""
    try:
        f = getattr(_C, name)
    except AttributeError:
        return None
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


def _require(name):
    if not hasattr(_C, name):
        raise NotImplementedError(f"{LIBRARY_PATH} has no {name} (an older libopg?)")


def _int_range(ctype):
    bits = 8 * ctypes.sizeof(ctype)
    if ctype(-1).value == -1:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def _check_int(ctype, value, what):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} is an int, not {type(value).__name__}")
    lo, hi = _int_range(ctype)
    if not lo <= value <= hi:
        raise OverflowError(f"{what} {value} outside {lo} .. {hi}")
    return value


class _Checked:
    """An argtypes entry for an integer argument: ctypes alone would wrap -1 into
    2**64-1 without a word; this refuses what the C type cannot hold."""

    def __init__(self, ctype):
        self.ctype = ctype

    def from_param(self, value):
        return self.ctype(_check_int(self.ctype, value, "argument"))


_U32, _U64, _I64 = _Checked(c_uint32), _Checked(c_uint64), _Checked(c_int64)
_INT_TYPES = (c_int, c_uint8, c_uint32, c_uint64, c_int64, c_size_t)

# ------------------------------------------------------------- core: errors

_declare("opg_version_string", c_char_p)
_declare("opg_version_number", ctypes.c_uint)
_declare("opg_strerror", c_char_p, c_int)
_declare("opg_errname", c_char_p, c_int)
_declare("opg_error_min", c_int)
_declare("opg_time_forever", c_int64)
_declare("opg_u256_string_max", c_size_t)
_declare("opg_dec_string_max", c_size_t)


def version():
    """The version of the linked library, "MAJOR.MINOR.PATCH"."""
    return _C.opg_version_string().decode()


def version_number():
    """MAJOR*10000 + MINOR*100 + PATCH of the linked library."""
    return _C.opg_version_number()


if version_number() // 10000 != ABI_MAJOR:
    raise ImportError(f"{LIBRARY_PATH} is libopg {version()}; this binding mirrors the "
                      f"structs of libopg {ABI_MAJOR}.x")


def strerror(code):
    """The library's sentence for an error code."""
    return _C.opg_strerror(code).decode()


def errname(code):
    """The code's name without prefix, e.g. "EOVERFLOW" ("EUNKNOWN" if unknown)."""
    return _C.opg_errname(code).decode()


def error_codes():
    """{name: code} for every code the linked library knows, "OK" included."""
    return {errname(c): c for c in range(0, _C.opg_error_min() - 1, -1)}


# Module constants OK, EINVAL, ... from the library's own table.
globals().update(error_codes())


class OpgError(Exception):
    """A libopg call returned a non-zero code.

    .code    the int (negative), e.g. -5
    .name    opg_errname(code), e.g. "ENOTFOUND"
    .message opg_strerror(code)
    .detail  the handle's last_error text for that call ("" if none)
    .call    the C function that failed
    """

    def __init__(self, code, detail="", call=""):
        self.code = code
        self.name = errname(code)
        self.message = strerror(code)
        self.detail = detail or ""
        self.call = call
        text = f"{self.name}: {self.message}"
        if self.detail:
            text += f" ({self.detail})"
        if call:
            text = f"{call}: {text}"
        super().__init__(text)

    def __reduce__(self):  # picklable (multiprocessing) with all its fields
        return (type(self), (self.code, self.detail, self.call))


def _check(rc, call, detail=""):
    if rc:
        raise OpgError(rc, detail, call)


TIME_FOREVER = _C.opg_time_forever()
_declare("opg_constant", c_int, POINTER(c_uint64), c_char_p)


def _constant(name):
    v = c_uint64(0)
    _check(_C.opg_constant(byref(v), name.encode()), "opg_constant", name)
    return v.value


RECORD_KEY_MAX = _constant("RECORD_KEY_MAX")
PROOF_MAX_BYTES = _constant("PROOF_MAX_BYTES")
U256_MAX = (1 << 256) - 1
_U256_TEXT = _C.opg_u256_string_max()
_DEC_TEXT = _C.opg_dec_string_max()

# ------------------------------------------------------------ core: numbers

_M64 = (1 << 64) - 1


class opg_u256(ctypes.Structure):
    _fields_ = [("limb", c_uint64 * 4)]

    @classmethod
    def of(cls, value):
        if isinstance(value, cls):
            return value
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"an amount is an int, not {type(value).__name__}")
        if value < 0 or value >> 256:
            raise OverflowError(f"amount {value} outside 0 .. 2**256-1")
        if sys.byteorder == "little":
            return cls.from_buffer_copy(value.to_bytes(32, "little"))
        return cls((value & _M64, (value >> 64) & _M64, (value >> 128) & _M64, value >> 192))

    if sys.byteorder == "little":  # the four limbs, least first, are one LE integer
        def __int__(self):
            return int.from_bytes(bytes(self), "little")
    else:
        def __int__(self):
            a, b, c, d = self.limb
            return a | b << 64 | c << 128 | d << 192

    def to_py(self):
        return int(self)


def _dec_text(value):
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise TypeError("a decimal is a Decimal, str or int, not bool")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return str(value)  # refused by the parser
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    if isinstance(value, float):
        raise TypeError("a decimal is a Decimal, str or int; floats are inexact")
    raise TypeError(f"a decimal is a Decimal, str or int, not {type(value).__name__}")


class opg_dec(ctypes.Structure):
    _fields_ = [("limb", c_uint64 * 4)]

    @classmethod
    def of(cls, value):
        if isinstance(value, cls):
            return value
        text = _dec_text(value)
        out = cls()
        rc = _C.opg_dec_from_string(byref(out), text.encode("utf-8"))
        if rc:
            raise OpgError(rc, f"not an opg decimal: {text!r}", "opg_dec_from_string")
        return out

    def to_py(self):
        buf = ctypes.create_string_buffer(_DEC_TEXT)
        _check(_C.opg_dec_to_string(buf, _DEC_TEXT, None, byref(self)), "opg_dec_to_string")
        return decimal.Decimal(buf.value.decode())


class Id(bytes):
    """A 32-byte id (account, operator, consensus key, evidence id)."""

    def __new__(cls, value):
        if isinstance(value, int):
            raise TypeError("an id is 32 bytes or 64 hex digits (Id.from_int for a number)")
        if isinstance(value, str):
            text = value[2:] if value[:2] in ("0x", "0X") else value
            try:
                value = bytes.fromhex(text)
            except ValueError:
                raise ValueError(f"an id in hex is 64 hex digits, not {value!r}") from None
        value = bytes(value)
        if len(value) != 32:
            raise ValueError(f"an id is 32 bytes, not {len(value)}")
        return super().__new__(cls, value)

    @classmethod
    def from_int(cls, n):
        """The id whose bytes are n big-endian (handy in tests: ordered by n)."""
        return cls(n.to_bytes(32, "big"))

    def __repr__(self):
        return f"Id('{self.hex()}')"


class opg_id(ctypes.Structure):
    _fields_ = [("bytes", c_uint8 * 32)]

    @classmethod
    def of(cls, value):
        if isinstance(value, cls):
            return value
        return cls.from_buffer_copy(Id(value))

    def to_py(self):
        return Id(bytes(self.bytes))


def _u(v):
    return opg_u256.of(v)


def _d(v):
    return opg_dec.of(v)


def _i(v):
    return opg_id.of(v)


_PU, _PD, _PI = POINTER(opg_u256), POINTER(opg_dec), POINTER(opg_id)

_declare("opg_u256_to_string", c_int, c_char_p, c_size_t, POINTER(c_size_t), _PU)
_declare("opg_u256_from_string", c_int, _PU, c_char_p)
_declare("opg_u256_mul_div", c_int, _PU, _PU, _PU, _PU)
_declare("opg_dec_from_string", c_int, _PD, c_char_p)
_declare("opg_dec_to_string", c_int, c_char_p, c_size_t, POINTER(c_size_t), _PD)
_declare("opg_dec_to_raw", None, _PU, _PD)
_declare("opg_dec_from_raw", None, _PD, _PU)


def u256_mul_div(a, b, c):
    """trunc(a * b / c) with a 512-bit intermediate (opg_u256_mul_div)."""
    out = opg_u256()
    _check(_C.opg_u256_mul_div(byref(out), _u(a), _u(b), _u(c)), "opg_u256_mul_div")
    return int(out)


def _dec_op(name, doc):
    f = _declare("opg_" + name, c_int, _PD, _PD, _PD)

    def op(a, b):
        out = opg_dec()
        _check(f(byref(out), _d(a), _d(b)), "opg_" + name)
        return out.to_py()
    op.__name__ = name
    op.__doc__ = doc + " (Cosmos LegacyDec rounding, SEMANTICS.md section 1)."
    return op


dec_add = _dec_op("dec_add", "a + b")
dec_sub = _dec_op("dec_sub", "a - b")
dec_mul = _dec_op("dec_mul", "round(a*b), half to even")
dec_mul_truncate = _dec_op("dec_mul_truncate", "trunc(a*b)")
dec_mul_round_up = _dec_op("dec_mul_round_up", "ceil(a*b)")
dec_quo = _dec_op("dec_quo", "a/b truncated to 36 places, then half to even")
dec_quo_truncate = _dec_op("dec_quo_truncate", "trunc(a/b)")
dec_quo_round_up = _dec_op("dec_quo_round_up", "ceil(a/b)")

# ------------------------------------------------------------ enums, flags

class Role(enum.IntFlag):
    CONSENSUS = 1
    INFERENCE = 2
    VERIFICATION = 4
    ALL = 7


class NodeStatus(enum.IntEnum):
    UNBONDED = 0
    UNBONDING = 1
    BONDED = 2


class EventKind(enum.IntEnum):
    VALIDATOR_UPDATE = 1
    UNBONDING_MATURED = 2
    REDELEGATION_MATURED = 3
    REWARDS_PAID = 4
    COMMISSION_PAID = 5
    BURNED = 6
    NODE_STATUS = 7
    NODE_JAILED = 8
    NODE_REMOVED = 9
    REPORTER_REWARD = 10


class PricerController(enum.IntEnum):
    EIP1559 = 0
    EXPONENTIAL = 1


class PricerCombine(enum.IntEnum):
    SUM = 0
    MAX = 1


class EmissionKind(enum.IntEnum):
    NONE = 0
    COSMOS_MINT = 1
    DECAY_POOL = 2
    LINEAR_POOL = 3


def _enum_in(cls, value):
    if isinstance(value, str) and issubclass(cls, enum.Flag) and "|" in value:
        out = 0
        for part in value.split("|"):
            out |= _enum_in(cls, part.strip())
        return out
    if isinstance(value, str):
        try:
            return int(cls[value.upper()])
        except KeyError:
            raise ValueError(f"{cls.__name__} has no {value!r}; one of "
                             f"{', '.join(m.name.lower() for m in cls)}") from None
    return int(cls(value))


def _enum_out(cls, value):
    try:
        return cls(value)
    except ValueError:
        return value  # a value newer than this binding: keep the int

# ----------------------------------------------------- structs and records

class _Struct(ctypes.Structure):
    """Base of every mirrored C struct. Subclasses declare _fields_ exactly as the
    header does and may name enum fields (_enums_), int-as-bool fields (_bools_),
    fields that are not part of the Python record (_skip_), and the record's name
    (_record_). to_py() gives the record; update() sets fields from Python values."""
    _enums_ = {}
    _bools_ = ()
    _skip_ = ()
    _extra_ = ()
    _record_ = None

    @classmethod
    def record_type(cls):
        rt = cls.__dict__.get("_record_type")
        if rt is None:
            names = [f[0] for f in cls._fields_ if f[0] not in cls._skip_]
            names += [(x, object, dataclasses.field(default=None)) for x in cls._extra_]
            rt = dataclasses.make_dataclass(cls._record_ or cls.__name__, names)
            rt.__module__ = __name__
            cls._record_type = rt
        return rt

    @classmethod
    def _converters(cls):
        conv = cls.__dict__.get("_conv")
        if conv is None:
            conv = [(name, _out_fn(ctype, cls._enums_.get(name), name in cls._bools_))
                    for name, ctype in cls._fields_ if name not in cls._skip_]
            cls._conv = conv
        return conv

    def to_py(self):
        return self.record_type()(**{name: fn(getattr(self, name))
                                     for name, fn in self._converters()})

    def update(self, values=None, **kw):
        """Sets fields from a mapping, a record of this struct, or keywords."""
        if isinstance(values, type(self)):
            ctypes.pointer(self)[0] = values
            values = None
        if values is not None:
            if dataclasses.is_dataclass(values):
                values = {f.name: getattr(values, f.name) for f in dataclasses.fields(values)
                          if f.name not in self._extra_}
            kw = {**dict(values), **kw}
        types = dict(self._fields_)
        for name, value in kw.items():
            if name not in types or name in self._skip_:
                raise TypeError(f"{type(self).__name__} has no field {name!r}")
            ctype = types[name]
            if isinstance(value, ctypes.Structure) and not isinstance(value, ctype):
                raise TypeError(f"{name}: {type(value).__name__} is not {ctype.__name__}")
            if issubclass(ctype, _Struct) and not isinstance(value, ctype):
                getattr(self, name).update(value)
            elif issubclass(ctype, ctypes.Array) and issubclass(ctype._type_, _Struct):
                arr = getattr(self, name)
                if len(value) > len(arr):
                    raise ValueError(f"{name}: at most {len(arr)} entries")
                for i, v in enumerate(value):
                    if isinstance(v, ctype._type_):
                        arr[i] = v
                    else:
                        arr[i].update(v)
            else:
                setattr(self, name, _in(ctype, value, self._enums_.get(name),
                                        name in self._bools_, name))
        return self

    @classmethod
    def make(cls, values=None, **kw):
        if isinstance(values, cls) and not kw:
            return values
        return cls().update(values, **kw)


def _u256_array_out(arr):
    raw = bytes(arr)
    if sys.byteorder == "little":
        return [int.from_bytes(raw[i:i + 32], "little") for i in range(0, len(raw), 32)]
    return [int(v) for v in arr]


def _out_fn(ctype, enum_cls=None, as_bool=False):
    """The function that turns a field of this C type into its Python value."""
    if issubclass(ctype, (opg_u256, opg_dec, opg_id, _Struct)):
        return ctype.to_py
    if ctype is c_char_p:
        return lambda v: None if v is None else v.decode("utf-8")
    if issubclass(ctype, ctypes.Array):
        if ctype._type_ is c_char:
            return lambda v: v.decode("utf-8")  # ctypes gives the bytes before the NUL
        if ctype._type_ is c_uint8:
            return bytes
        if ctype._type_ is opg_u256:
            return _u256_array_out
        elem = _out_fn(ctype._type_)
        return lambda v: [elem(x) for x in v]
    if enum_cls is not None:
        return lambda v: _enum_out(enum_cls, v)
    if as_bool:
        return bool
    return lambda v: v


def _in(ctype, value, enum_cls=None, as_bool=False, name="value"):
    if ctype is c_char_p:
        return None if value is None else _param_text(value).encode("utf-8")
    if issubclass(ctype, opg_u256):
        return _u(value)
    if issubclass(ctype, opg_dec):
        return _d(value)
    if issubclass(ctype, opg_id):
        return _i(value)
    if issubclass(ctype, ctypes.Array):
        if ctype._type_ is c_char:
            raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
            if len(raw) >= ctype._length_:
                raise ValueError(f"{name}: at most {ctype._length_ - 1} bytes")
            return raw
        if ctype._type_ is c_uint8:
            raw = bytes(value)
            if len(raw) != ctype._length_:
                raise ValueError(f"{name}: exactly {ctype._length_} bytes")
            return ctype.from_buffer_copy(raw)
        items = list(value)
        if len(items) > ctype._length_:
            raise ValueError(f"{name}: at most {ctype._length_} entries")
        return ctype(*[_in(ctype._type_, v, name=name) for v in items])
    if enum_cls is not None:
        return _enum_in(enum_cls, value)
    if as_bool:
        return 1 if value else 0
    if issubclass(ctype, _INT_TYPES):
        return _check_int(ctype, int(value) if isinstance(value, enum.Enum) else value, name)
    if isinstance(value, enum.Enum):
        return int(value)
    return value


def _record(cls):
    """Publishes a struct's record type under its name in this module."""
    rt = cls.record_type()
    globals()[rt.__name__] = rt
    __all__.append(rt.__name__)
    return cls

def _param_text(value):
    """A parameter value as the text the libraries parse."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, (int, decimal.Decimal)):
        return _dec_text(value)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)

# ------------------------------------------------------------------ handles

class _Ptr:
    """Owns one C handle. A parent (the registry) closes its children (engines) before
    itself, whatever order the garbage collector finalises them in; there is no
    reference cycle, so CPython frees handles as soon as they are unreachable."""
    __slots__ = ("ptr", "free", "children", "parent", "__weakref__")

    def __init__(self, ptr, free, parent=None):
        self.ptr = ptr
        self.free = free  # kept here: module globals may be gone at interpreter exit
        self.children = set()
        self.parent = None
        if parent is not None:
            self.parent = weakref.ref(parent)
            parent.children.add(self)

    def close(self):
        if self.ptr is None:
            return
        for child in list(self.children):
            child.close()
        ptr, self.ptr = self.ptr, None
        self.free(ptr)
        parent = self.parent() if self.parent is not None else None
        if parent is not None:
            parent.children.discard(self)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class _Link:
    """Registered among a handle's children: run when that handle closes (a tally
    detaches it first). Holds no wrapper, so it makes no reference cycle."""
    __slots__ = ("undo", "__weakref__")

    def __init__(self, undo):
        self.undo = undo

    def close(self):
        undo, self.undo = self.undo, None
        if undo is not None:
            undo()


class _Handle:
    """Common machinery of every handle: lifetime, errors, parameters by key, saved
    state. A subclass sets _prefix ("opg_registry") and the flags below, and
    _declare_handle(prefix, ...) declares the common C functions once."""
    _prefix = None
    _param_key_takes_handle = False  # opg_pricer_param_key(pricer, i)
    _ptr = None

    def _adopt(self, ptr, parent=None):
        self._ptr = _Ptr(ptr, getattr(_C, self._prefix + "_free"),
                         parent._ptr if parent is not None else None)

    @property
    def _p(self):
        p = self._ptr.ptr if self._ptr is not None else None
        if p is None:
            raise ValueError(f"{type(self).__name__} is closed")
        return p

    @property
    def closed(self):
        return self._ptr is None or self._ptr.ptr is None

    def close(self):
        """Frees the C handle (engines on a registry first). Idempotent."""
        if self._ptr is not None:
            self._ptr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        state = "closed" if self.closed else hex(self._p)
        return f"<opg.{type(self).__name__} {state}>"

    def _fn(self, verb):
        return getattr(_C, f"{self._prefix}_{verb}")

    def last_error(self):
        """Detail text of the last failed call that changed this handle ("" if none)."""
        if self.closed:
            return ""
        return self._fn("last_error")(self._p).decode("utf-8", "replace")

    def _call(self, verb, *args):
        """Calls a function that takes this handle non-const: a failure carries the
        handle's last_error detail."""
        rc = self._fn(verb)(*args)
        if rc:
            raise OpgError(rc, self.last_error(), f"{self._prefix}_{verb}")

    def _query(self, verb, *args):
        """Calls a function that takes the handle const: it leaves no detail (the
        handle's last_error belongs to an earlier call), so none is attached."""
        rc = self._fn(verb)(*args)
        if rc:
            raise OpgError(rc, "", f"{self._prefix}_{verb}")

    # ---- parameters by key
    def param_set(self, key, value):
        """Sets a parameter by key; value is text, an int, a Decimal or a bool."""
        self._call("param_set", self._p, key.encode(), _param_text(value).encode())

    def param_get(self, key):
        """A parameter's value as text (the form param_set accepts)."""
        return _text_out(lambda buf, cap, need: self._fn("param_get")(
            buf, cap, need, self._p, key.encode()), f"{self._prefix}_param_get")

    def param_keys(self):
        """Every parameter key, in the library's order."""
        f = self._fn("param_key")
        keys = []
        while True:
            k = f(self._p, len(keys)) if self._param_key_takes_handle else f(len(keys))
            if k is None:
                return keys
            keys.append(k.decode())

    def param_items(self):
        """{key: text} of every parameter."""
        return {k: self.param_get(k) for k in self.param_keys()}

    # ---- saved state
    def save(self):
        """The canonical saved state (bytes)."""
        return _blob_out(lambda buf, cap, n: self._fn("save")(buf, cap, n, self._p),
                         f"{self._prefix}_save")

    def state_hash(self):
        """The 32-byte state hash."""
        out = (c_uint8 * 32)()
        rc = self._fn("state_hash")(out, self._p)
        if rc:  # None for the functions that cannot fail
            raise OpgError(rc, "", f"{self._prefix}_state_hash")
        return bytes(out)

    # ---- records (the registry, the pricer and the splitter)
    def commit(self):
        """Commits the block: (root, changes), changes the records put and deleted
        since the last commit in key order, as (key, value) with value None for a
        deletion."""
        root = (c_uint8 * 32)()
        ch = POINTER(opg_record)()
        n = c_size_t(0)
        self._call("commit", root, byref(ch), byref(n), self._p)
        return bytes(root), [_record_bytes(ch[i]) for i in range(n.value)]

    def root(self):
        """The root as of the last commit."""
        out = (c_uint8 * 32)()
        self._fn("root")(out, self._p)
        return bytes(out)

    def root_from_scratch(self):
        out = (c_uint8 * 32)()
        self._query("root_from_scratch", out, self._p)
        return bytes(out)

    def records(self):
        """Every record in key order, as (key, value) pairs."""
        got = []

        def sink(_ctx, rec):
            got.append(_record_bytes(rec.contents))
            return 0
        self._call("records", self._p, _RECORD_SINK(sink), None)
        return got

    def prove(self, key):
        """A proof of key against the last committed root (proof_verify checks it)."""
        return _blob_out(lambda buf, cap, n: self._fn("prove")(buf, cap, n, self._p, bytes(key), len(key)),
                         f"{self._prefix}_prove")

    @classmethod
    def _from_records(cls, parent, records, root, *load_args):
        items = iter(records)
        keep = []  # the bytes of the record handed out last stay alive until the next

        def source(_ctx, rec):
            try:
                key, value = next(items)
            except StopIteration:
                return 0
            kb, vb = ctypes.create_string_buffer(bytes(key), len(key)), \
                ctypes.create_string_buffer(bytes(value), max(len(value), 1))
            keep[:] = [kb, vb]
            r = rec.contents
            r.key = ctypes.cast(kb, POINTER(c_uint8))
            r.key_len = len(key)
            r.value = ctypes.cast(vb, POINTER(c_uint8))
            r.value_len = len(value)
            r.present = 1
            return 1
        out = c_void_p()
        rc = getattr(_C, cls._prefix + "_load_records")(byref(out), *load_args, _RECORD_SOURCE(source), None,
                                                        None if root is None else bytes(root), None)
        _check(rc, cls._prefix + "_load_records")
        self = cls.__new__(cls)
        self._adopt(out.value, parent)
        return self

    def check(self):
        """Checks the handle's invariants; OpgError(EINVARIANT) with the detail."""
        self._call("check", self._p)

    @classmethod
    def _loaded(cls, parent, buf, *load_args):
        out = c_void_p()
        data = bytes(buf)
        rc = getattr(_C, cls._prefix + "_load")(byref(out), *load_args, data, len(data), None)
        _check(rc, cls._prefix + "_load")
        self = cls.__new__(cls)
        self._adopt(out.value, parent)
        return self


def _declare_handle(prefix, key_takes_handle=False, hash_returns_int=True, has_check=True,
                    engine=False):
    _declare(prefix + "_free", None, _H)
    _declare(prefix + "_last_error", c_char_p, _H)
    _declare(prefix + "_param_set", c_int, _H, c_char_p, c_char_p)
    _declare(prefix + "_param_get", c_int, c_void_p, c_size_t, POINTER(c_size_t), _H, c_char_p)
    if key_takes_handle:
        _declare(prefix + "_param_key", c_char_p, _H, c_size_t)
    else:
        _declare(prefix + "_param_key", c_char_p, c_size_t)
    _declare(prefix + "_save", c_int, c_void_p, c_size_t, POINTER(c_size_t), _H)
    if engine:
        _declare(prefix + "_load", c_int, POINTER(_H), _H, c_char_p, c_size_t, c_void_p)
    else:
        _declare(prefix + "_load", c_int, POINTER(_H), c_char_p, c_size_t, c_void_p)
    _declare(prefix + "_state_hash", c_int if hash_returns_int else None, c_void_p, _H)
    if has_check:
        _declare(prefix + "_check", c_int, _H)


class opg_record(ctypes.Structure):
    """One record of a change set or an export (opg_core.h, "records")."""
    _fields_ = [("key", POINTER(c_uint8)), ("key_len", c_size_t), ("value", POINTER(c_uint8)),
                ("value_len", c_size_t), ("present", c_int)]


class opg_handle_root(ctypes.Structure):
    _fields_ = [("tag", c_uint8), ("root", c_uint8 * 32)]


_RECORD_SOURCE = ctypes.CFUNCTYPE(c_int, c_void_p, POINTER(opg_record))
_RECORD_SINK = ctypes.CFUNCTYPE(c_int, c_void_p, POINTER(opg_record))


def _declare_records(prefix, engine=False):
    """The records API of a handle that has one (commit, root, export, load, prove)."""
    _declare(prefix + "_commit", c_int, c_void_p, POINTER(POINTER(opg_record)), POINTER(c_size_t), _H)
    _declare(prefix + "_root", None, c_void_p, _H)
    _declare(prefix + "_root_from_scratch", c_int, c_void_p, _H)
    _declare(prefix + "_records", c_int, _H, _RECORD_SINK, c_void_p)
    if engine:
        _declare(prefix + "_load_records", c_int, POINTER(_H), _H, _RECORD_SOURCE, c_void_p, c_void_p, c_void_p)
    else:
        _declare(prefix + "_load_records", c_int, POINTER(_H), _RECORD_SOURCE, c_void_p, c_void_p, c_void_p)
    _declare(prefix + "_prove", c_int, c_void_p, c_size_t, POINTER(c_size_t), _H, c_char_p, c_size_t)


def _record_bytes(r):
    key = ctypes.string_at(r.key, r.key_len)
    return key, (ctypes.string_at(r.value, r.value_len) if r.present else None)


def proof_verify(root, key, value, proof):
    """True when proof shows that key maps to value under root (value None: that key
    has no record); False for any proof that does not (opg_proof_verify)."""
    v = b"" if value is None else bytes(value)
    rc = _C.opg_proof_verify(bytes(root), bytes(key), len(key), v, len(v), 0 if value is None else 1,
                             bytes(proof), len(proof))
    if rc == EPROOF:  # noqa: F821 (from error_codes())
        return False
    _check(rc, "opg_proof_verify")
    return True


def app_root(roots):
    """The app root over (tag, root) pairs in increasing tag order (opg_app_root)."""
    arr = (opg_handle_root * max(len(roots), 1))()
    for i, (tag, root) in enumerate(roots):
        arr[i].tag = tag
        arr[i].root[:] = list(bytes(root))
    out = (c_uint8 * 32)()
    _check(_C.opg_app_root(out, arr, len(roots)), "opg_app_root")
    return bytes(out)


def _text_out(call, name):
    """Runs a (buf, cap, needed) text getter, growing the buffer on EBUFS."""
    cap = 128
    while True:
        buf = ctypes.create_string_buffer(cap)
        need = c_size_t(0)
        rc = call(buf, cap, byref(need))
        if rc == 0:
            return buf.value.decode("utf-8")
        if rc != EBUFS or need.value <= cap:  # noqa: F821 (from error_codes())
            raise OpgError(rc, "", name)
        cap = need.value


def _blob_out(call, name):
    """Runs a (buf, cap, len) writer: asks the size, then writes."""
    n = c_size_t(0)
    rc = call(None, 0, byref(n))
    if rc not in (0, EBUFS):  # noqa: F821
        raise OpgError(rc, "", name)
    buf = ctypes.create_string_buffer(max(n.value, 1))
    rc = call(buf, n.value, byref(n))
    if rc:
        raise OpgError(rc, "", name)
    return buf.raw[:n.value]


def _list_out(call, struct_cls, name):
    """Runs a (out, cap, count) list getter: asks the count, then fills."""
    count = c_size_t(0)
    one = (struct_cls * 1)()
    rc = call(one, 0, byref(count))
    if rc == 0 and count.value == 0:
        return []
    if rc not in (0, EBUFS):  # noqa: F821
        raise OpgError(rc, "", name)
    arr = (struct_cls * count.value)()
    rc = call(arr, count.value, byref(count))
    if rc:
        raise OpgError(rc, "", name)
    return [arr[i].to_py() for i in range(count.value)]


def _array_out(ptr, count):
    return [ptr[i].to_py() for i in range(count)]

# ================================================================ registry

@_record
class opg_registry_params(_Struct):
    _record_ = "RegistryParams"
    _bools_ = ("fix_redelegation_overslash", "poa")
    _fields_ = [
        ("unbonding_time", c_int64),
        ("max_validators", c_uint32),
        ("max_entries", c_uint32),
        ("min_commission_rate", opg_dec),
        ("power_reduction", opg_u256),
        ("fix_redelegation_overslash", c_int),
        ("poa", c_int),
    ]


@_record
class opg_node_create(_Struct):
    _record_ = "NodeCreate"
    _enums_ = {"roles": Role}
    _fields_ = [
        ("operator_id", opg_id),
        ("consensus_key", opg_id),
        ("roles", c_uint32),
        ("commission_rate", opg_dec),
        ("commission_max_rate", opg_dec),
        ("commission_max_change_rate", opg_dec),
        ("min_self_delegation", opg_u256),
        ("self_delegation", opg_u256),
    ]


@_record
class opg_node_info(_Struct):
    _record_ = "NodeInfo"
    _enums_ = {"roles": Role, "status": NodeStatus}
    _bools_ = ("jailed", "tombstoned")
    _fields_ = [
        ("operator_id", opg_id),
        ("consensus_key", opg_id),
        ("roles", c_uint32),
        ("status", c_int),
        ("jailed", c_int),
        ("tombstoned", c_int),
        ("jailed_until", c_int64),
        ("tokens", opg_u256),
        ("delegator_shares", opg_dec),
        ("commission_rate", opg_dec),
        ("commission_max_rate", opg_dec),
        ("commission_max_change_rate", opg_dec),
        ("commission_update_time", c_int64),
        ("min_self_delegation", opg_u256),
        ("unbonding_height", c_uint64),
        ("unbonding_time", c_int64),
        ("power", c_uint64),
        ("delegation_count", c_uint64),
    ]


@_record
class opg_delegation_info(_Struct):
    _record_ = "DelegationInfo"
    _fields_ = [
        ("delegator", opg_id),
        ("operator_id", opg_id),
        ("shares", opg_dec),
        ("tokens", opg_u256),
    ]


@_record
class opg_unbonding_info(_Struct):
    _record_ = "UnbondingInfo"
    _fields_ = [
        ("delegator", opg_id),
        ("operator_id", opg_id),
        ("creation_height", c_uint64),
        ("completion_time", c_int64),
        ("initial_balance", opg_u256),
        ("balance", opg_u256),
    ]


@_record
class opg_redelegation_info(_Struct):
    _record_ = "RedelegationInfo"
    _fields_ = [
        ("delegator", opg_id),
        ("src", opg_id),
        ("dst", opg_id),
        ("creation_height", c_uint64),
        ("completion_time", c_int64),
        ("initial_balance", opg_u256),
        ("shares_dst", opg_dec),
    ]


@_record
class opg_event(_Struct):
    _record_ = "Event"
    _enums_ = {"kind": EventKind, "status": NodeStatus}
    _fields_ = [
        ("kind", c_int),
        ("status", c_int),
        ("account", opg_id),
        ("node", opg_id),
        ("node2", opg_id),
        ("amount", opg_u256),
        ("power", c_uint64),
    ]


@_record
class opg_slash_result(_Struct):
    _record_ = "SlashResult"
    _fields_ = [
        ("burned_total", opg_u256),
        ("burned_node", opg_u256),
        ("burned_unbonding", opg_u256),
        ("burned_redelegation", opg_u256),
        ("effective_fraction", opg_dec),
    ]


@_record
class opg_supply_info(_Struct):
    _record_ = "SupplyInfo"
    _fields_ = [
        ("total_supply", opg_u256),
        ("minted", opg_u256),
        ("burned", opg_u256),
        ("bonded", opg_u256),
        ("unbonding", opg_u256),
        ("community_pool", opg_u256),
        ("outstanding_rewards", opg_u256),
        ("staking_ratio", opg_dec),
    ]


_declare_handle("opg_registry")
_declare_records("opg_registry")
_declare("opg_registry_key_node", c_int, c_void_p, POINTER(c_size_t), POINTER(opg_id))
_declare("opg_registry_key_delegation", c_int, c_void_p, POINTER(c_size_t), POINTER(opg_id), POINTER(opg_id))
_declare("opg_proof_verify", c_int, c_char_p, c_char_p, c_size_t, c_char_p, c_size_t, c_int, c_char_p, c_size_t)
_declare("opg_app_root", c_int, c_void_p, c_void_p, c_size_t)
_PNI = POINTER(opg_node_info)
_declare("opg_registry_params_init", None, POINTER(opg_registry_params))
_declare("opg_registry_params_get", None, POINTER(opg_registry_params), _H)
_declare("opg_registry_new", c_int, POINTER(_H), POINTER(opg_registry_params), _PU, c_void_p)
_declare("opg_registry_node_create", c_int, _H, POINTER(opg_node_create), _U64, _I64)
_declare("opg_registry_node_set_commission", c_int, _H, _PI, _PD, _I64)
_declare("opg_registry_node_set_min_self_delegation", c_int, _H, _PI, _PU)
_declare("opg_registry_node_set_roles", c_int, _H, _PI, _U32)
_declare("opg_registry_unjail", c_int, _H, _PI, _I64)
_declare("opg_registry_node_get", c_int, _PNI, _H, _PI)
_declare("opg_registry_node_by_consensus_key", c_int, _PI, _H, _PI)
_declare("opg_registry_node_count", c_size_t, _H)
_declare("opg_registry_node_at", c_int, _PNI, _H, c_size_t)
_declare("opg_registry_delegate", c_int, _PD, _H, _PI, _PI, _PU, _U64, _I64)
_declare("opg_registry_undelegate", c_int, _PU, POINTER(c_int64), _H, _PI, _PI, _PU, _U64, _I64)
_declare("opg_registry_redelegate", c_int, POINTER(c_int64), _H, _PI, _PI, _PI, _PU, _U64, _I64)
_declare("opg_registry_cancel_unbonding", c_int, _H, _PI, _PI, _U64, _PU, _U64, _I64)
_declare("opg_registry_delegation_get", c_int, POINTER(opg_delegation_info), _H, _PI, _PI)
_declare("opg_registry_delegation_count", c_size_t, _H)
_declare("opg_registry_delegations_of", c_int, POINTER(opg_delegation_info), c_size_t,
         POINTER(c_size_t), _H, _PI)
_declare("opg_registry_unbondings_of", c_int, POINTER(opg_unbonding_info), c_size_t,
         POINTER(c_size_t), _H, _PI)
_declare("opg_registry_redelegations_of", c_int, POINTER(opg_redelegation_info), c_size_t,
         POINTER(c_size_t), _H, _PI)
_declare("opg_registry_events", POINTER(opg_event), _H, POINTER(c_size_t))
_declare("opg_registry_end_block", c_int, _H, _U64, _I64)
_declare("opg_registry_slash", c_int, POINTER(opg_slash_result), _H, _PI, _U64, _U64, _PD,
         _U64, _I64)
_declare("opg_registry_jail", c_int, _H, _PI, _I64)
_declare("opg_registry_tombstone", c_int, _H, _PI)
_declare("opg_registry_supply", None, POINTER(opg_supply_info), _H)
_declare("opg_registry_supply_mint", c_int, _H, _PU)
_declare("opg_registry_supply_burn", c_int, _H, _PU)


class Registry(_Handle):
    """The stake registry (opg_registry): nodes, delegations, unbonding and
    redelegation queues, the active set and the supply ledger.

    Registry(genesis_supply=0, **params): params are fields of opg_registry_params
    (unbonding_time, max_validators, max_entries, min_commission_rate, power_reduction,
    fix_redelegation_overslash); the others keep the library's defaults.
    """
    _prefix = "opg_registry"

    def __init__(self, genesis_supply=0, **params):
        p = opg_registry_params()
        _C.opg_registry_params_init(byref(p))
        p.update(params)
        out = c_void_p()
        _check(_C.opg_registry_new(byref(out), byref(p), _u(genesis_supply), None),
               "opg_registry_new")
        self._adopt(out.value)

    @classmethod
    def load(cls, data):
        """A registry from bytes that save() wrote."""
        return cls._loaded(None, data)

    @classmethod
    def load_records(cls, records, root=None):
        """A registry from (key, value) records in key order (a host's store), checked
        against root when given."""
        return cls._from_records(None, records, root)

    @staticmethod
    def key_node(operator_id):
        key, n = (c_uint8 * RECORD_KEY_MAX)(), c_size_t(0)
        _check(_C.opg_registry_key_node(key, byref(n), byref(_i(operator_id))), "opg_registry_key_node")
        return bytes(key[:n.value])

    @staticmethod
    def key_delegation(delegator, operator_id):
        key, n = (c_uint8 * RECORD_KEY_MAX)(), c_size_t(0)
        _check(_C.opg_registry_key_delegation(key, byref(n), byref(_i(delegator)), byref(_i(operator_id))),
               "opg_registry_key_delegation")
        return bytes(key[:n.value])

    @staticmethod
    def default_params():
        p = opg_registry_params()
        _C.opg_registry_params_init(byref(p))
        return p.to_py()

    def params(self):
        """The parameters in force (RegistryParams)."""
        p = opg_registry_params()
        _C.opg_registry_params_get(byref(p), self._p)
        return p.to_py()

    # ---- nodes
    def node_create(self, height, now, node=None, **fields):
        """Creates a node with its self-delegation. Fields of opg_node_create:
        operator_id, consensus_key, roles, commission_rate, commission_max_rate,
        commission_max_change_rate, min_self_delegation, self_delegation."""
        c = opg_node_create.make(node, **fields)
        self._call("node_create", self._p, byref(c), height, now)

    def node_set_commission(self, operator_id, rate, now):
        self._call("node_set_commission", self._p, _i(operator_id), _d(rate), now)

    def node_set_min_self_delegation(self, operator_id, amount):
        self._call("node_set_min_self_delegation", self._p, _i(operator_id), _u(amount))

    def node_set_roles(self, operator_id, roles):
        self._call("node_set_roles", self._p, _i(operator_id), _enum_in(Role, roles))

    def unjail(self, operator_id, now):
        self._call("unjail", self._p, _i(operator_id), now)

    def jail(self, operator_id, until=TIME_FOREVER):
        self._call("jail", self._p, _i(operator_id), until)

    def tombstone(self, operator_id):
        self._call("tombstone", self._p, _i(operator_id))

    def node(self, operator_id):
        """NodeInfo of the node; OpgError ENOTFOUND."""
        out = opg_node_info()
        self._query("node_get", byref(out), self._p, _i(operator_id))
        return out.to_py()

    def node_by_consensus_key(self, consensus_key):
        out = opg_id()
        self._query("node_by_consensus_key", byref(out), self._p, _i(consensus_key))
        return out.to_py()

    def node_count(self):
        return _C.opg_registry_node_count(self._p)

    def nodes(self):
        """Every node, in operator id order."""
        out = opg_node_info()
        res = []
        for i in range(self.node_count()):
            self._query("node_at", byref(out), self._p, i)
            res.append(out.to_py())
        return res

    # ---- delegations
    def delegate(self, delegator, operator_id, amount, height, now):
        """Delegates amount; returns the shares issued (Decimal)."""
        shares = opg_dec()
        self._call("delegate", byref(shares), self._p, _i(delegator), _i(operator_id),
                   _u(amount), height, now)
        return shares.to_py()

    def undelegate(self, delegator, operator_id, amount, height, now):
        """Starts unbonding; returns (tokens put into unbonding, completion time)."""
        unbonded, completion = opg_u256(), c_int64()
        self._call("undelegate", byref(unbonded), byref(completion), self._p, _i(delegator),
                   _i(operator_id), _u(amount), height, now)
        return int(unbonded), completion.value

    def redelegate(self, delegator, src, dst, amount, height, now):
        """Moves stake from src to dst; returns the completion time."""
        completion = c_int64()
        self._call("redelegate", byref(completion), self._p, _i(delegator), _i(src), _i(dst),
                   _u(amount), height, now)
        return completion.value

    def cancel_unbonding(self, delegator, operator_id, creation_height, amount, height, now):
        self._call("cancel_unbonding", self._p, _i(delegator), _i(operator_id),
                   creation_height, _u(amount), height, now)

    def delegation(self, delegator, operator_id):
        """DelegationInfo; OpgError ENOTFOUND."""
        out = opg_delegation_info()
        self._query("delegation_get", byref(out), self._p, _i(delegator), _i(operator_id))
        return out.to_py()

    def delegation_count(self):
        return _C.opg_registry_delegation_count(self._p)

    def delegations_of(self, delegator):
        d = _i(delegator)
        return _list_out(lambda o, c, n: _C.opg_registry_delegations_of(o, c, n, self._p, d),
                         opg_delegation_info, "opg_registry_delegations_of")

    def unbondings_of(self, delegator):
        d = _i(delegator)
        return _list_out(lambda o, c, n: _C.opg_registry_unbondings_of(o, c, n, self._p, d),
                         opg_unbonding_info, "opg_registry_unbondings_of")

    def redelegations_of(self, delegator):
        d = _i(delegator)
        return _list_out(lambda o, c, n: _C.opg_registry_redelegations_of(o, c, n, self._p, d),
                         opg_redelegation_info, "opg_registry_redelegations_of")

    # ---- the block
    def events(self):
        """The events of the last call that changed the registry or an engine on it."""
        n = c_size_t(0)
        ptr = _C.opg_registry_events(self._p, byref(n))
        return _array_out(ptr, n.value)

    def end_block(self, height, now):
        """Closes the block; returns its events."""
        self._call("end_block", self._p, height, now)
        return self.events()

    def slash(self, operator_id, infraction_height, power, fraction, height, now):
        """x/staking's Slash; returns a SlashResult."""
        out = opg_slash_result()
        self._call("slash", byref(out), self._p, _i(operator_id), infraction_height, power,
                   _d(fraction), height, now)
        return out.to_py()

    # ---- the ledger
    def supply(self):
        out = opg_supply_info()
        _C.opg_registry_supply(byref(out), self._p)
        return out.to_py()

    def supply_mint(self, amount):
        self._call("supply_mint", self._p, _u(amount))

    def supply_burn(self, amount):
        self._call("supply_burn", self._p, _u(amount))

# =================================================================== pricer

_declare("opg_pricer_max_dimensions", c_size_t)
_declare("opg_pricer_name_max", c_size_t)
PRICER_MAX_DIMENSIONS = 8
PRICER_NAME_MAX = 32
if (_C.opg_pricer_max_dimensions() != PRICER_MAX_DIMENSIONS
        or _C.opg_pricer_name_max() != PRICER_NAME_MAX):
    raise ImportError("libopg's pricer limits differ from the structs this binding mirrors")
_ND = PRICER_MAX_DIMENSIONS


@_record
class opg_pricer_dimension(_Struct):
    _record_ = "PricerDimension"
    _enums_ = {"controller": PricerController}
    _fields_ = [
        ("name", c_char * PRICER_NAME_MAX),
        ("controller", c_int),
        ("initial_base_fee", opg_u256),
        ("target", opg_u256),
        ("limit", opg_u256),
        ("min_base_fee", opg_u256),
        ("max_base_fee", opg_u256),
        ("denominator", c_uint64),
        ("update_fraction", c_uint64),
    ]


@_record
class opg_pricer_split(_Struct):
    _record_ = "PricerSplit"
    _fields_ = [
        ("inference", opg_dec),
        ("verifiers", opg_dec),
        ("stakers", opg_dec),
        ("burn", opg_dec),
        ("community", opg_dec),
    ]

    @classmethod
    def make(cls, values=None, **kw):
        if isinstance(values, str):  # "0.7,0.1,0.15,0.05,0", the fees.split form
            values = values.split(",")
        if isinstance(values, (list, tuple)):
            if len(values) != 5:
                raise ValueError("a split has five shares")
            values = dict(zip([f[0] for f in cls._fields_], values))
        return super().make(values, **kw)


@_record
class opg_pricer_class(_Struct):
    _record_ = "PricerClass"
    _fields_ = [
        ("id", c_uint32),
        ("multiplier", opg_dec * _ND),
    ]


@_record
class opg_pricer_params(_Struct):
    _record_ = "PricerParams"
    _enums_ = {"combine": PricerCombine}
    _skip_ = ("classes", "class_count")
    _fields_ = [
        ("dimension_count", c_size_t),
        ("dimensions", opg_pricer_dimension * _ND),
        ("combine", c_int),
        ("split", opg_pricer_split),
        ("classes", POINTER(opg_pricer_class)),
        ("class_count", c_size_t),
    ]


@_record
class opg_pricer_dimension_state(_Struct):
    _record_ = "DimensionState"
    _fields_ = [
        ("base_fee", opg_u256),
        ("usage", opg_u256),
        ("excess", opg_u256),
    ]


class opg_pricer_request(_Struct):
    _fields_ = [
        ("model_class", c_uint32),
        ("units", opg_u256 * _ND),
    ]


@_record
class opg_pricer_price(_Struct):
    _record_ = "Price"
    _fields_ = [
        ("base_fee", opg_u256),
        ("effective_units", opg_u256 * _ND),
        ("dimension_fee", opg_u256 * _ND),
    ]


@_record
class opg_pricer_receipt(_Struct):
    _record_ = "Receipt"
    _extra_ = ("verifier_amounts",)
    _fields_ = [
        ("price", opg_pricer_price),
        ("tip", opg_u256),
        ("fee", opg_u256),
        ("inference", opg_u256),
        ("verifiers", opg_u256),
        ("stakers", opg_u256),
        ("burn", opg_u256),
        ("community", opg_u256),
    ]


_declare_handle("opg_pricer", key_takes_handle=True, has_check=False)
_declare_records("opg_pricer")
_declare("opg_pricer_key_class", c_int, c_void_p, POINTER(c_size_t), c_uint32)
_PPC = POINTER(opg_pricer_class)
_declare("opg_pricer_params_init", None, POINTER(opg_pricer_params))
_declare("opg_pricer_new", c_int, POINTER(_H), POINTER(opg_pricer_params), c_void_p)
_declare("opg_pricer_dimension_count", c_size_t, _H)
_declare("opg_pricer_dimension_get", c_int, POINTER(opg_pricer_dimension),
         POINTER(opg_pricer_dimension_state), _H, c_size_t)
_declare("opg_pricer_dimension_find", c_int, POINTER(c_size_t), _H, c_char_p)
_declare("opg_pricer_split_get", None, POINTER(opg_pricer_split), _H)
_declare("opg_pricer_combine_get", c_int, _H)
_declare("opg_pricer_class_set", c_int, _H, _PPC)
_declare("opg_pricer_class_remove", c_int, _H, _U32)
_declare("opg_pricer_class_get", c_int, _PPC, _H, _U32)
_declare("opg_pricer_class_count", c_size_t, _H)
_declare("opg_pricer_class_at", c_int, _PPC, _H, c_size_t)
_declare("opg_pricer_quote", c_int, POINTER(opg_pricer_price), _H, POINTER(opg_pricer_request))
_declare("opg_pricer_charge", c_int, POINTER(opg_pricer_receipt), _PU, _H,
         POINTER(opg_pricer_request), _PU, _PU, _PI, c_size_t)
_declare("opg_pricer_end_block", c_int, _PU, _H)
_declare("opg_pricer_fake_exponential", c_int, _PU, _PU, _PU, _PU)


def _class_items(classes):
    if isinstance(classes, dict):
        return [{"id": k, "multiplier": v} for k, v in classes.items()]
    return list(classes)


def fake_exponential(factor, numerator, denominator):
    """EIP-4844's fake_exponential, bit for bit (opg_pricer_fake_exponential)."""
    out = opg_u256()
    _check(_C.opg_pricer_fake_exponential(byref(out), _u(factor), _u(numerator),
                                          _u(denominator)), "opg_pricer_fake_exponential")
    return int(out)


class Pricer(_Handle):
    """The fee market for inference requests (opg_pricer).

    Pricer(dimensions, classes=(), split=None, combine="sum")
      dimensions  a list; each a name (str) with the library's defaults (Ethereum's
                  London parameters), or a dict / PricerDimension of fields to set:
                  {"name": "gpu", "target": 1000, "limit": 2000, "initial_base_fee": 10,
                   "controller": "exponential", "min_base_fee": 1, ...}
      classes     {id: multipliers} or a list of PricerClass / dicts; multipliers are a
                  list by dimension index or a dict {dimension name: multiplier}
      split       PricerSplit, dict, 5 shares or "inference,verifiers,stakers,burn,community"
      combine     "sum" / "max" or PricerCombine
    """
    _prefix = "opg_pricer"
    _param_key_takes_handle = True

    def __init__(self, dimensions, classes=(), split=None, combine=PricerCombine.SUM):
        p = opg_pricer_params()
        _C.opg_pricer_params_init(byref(p))
        dims = list(dimensions)
        if len(dims) > _ND:
            raise ValueError(f"at most {_ND} dimensions")
        names = []
        for i, d in enumerate(dims):
            if isinstance(d, str):
                d = {"name": d}
            p.dimensions[i].update(d)
            names.append(p.dimensions[i].name.decode())
        p.dimension_count = len(dims)
        p.combine = _enum_in(PricerCombine, combine)
        if split is not None:
            p.split = opg_pricer_split.make(split)
        cls_list = [self._class_struct(c, names) for c in _class_items(classes)]
        arr = (opg_pricer_class * max(len(cls_list), 1))(*cls_list)
        p.classes = ctypes.cast(arr, _PPC)
        p.class_count = len(cls_list)
        out = c_void_p()
        _check(_C.opg_pricer_new(byref(out), byref(p), None), "opg_pricer_new")
        self._adopt(out.value)

    @classmethod
    def load(cls, data):
        return cls._loaded(None, data)

    @classmethod
    def load_records(cls, records, root=None):
        """A pricer from (key, value) records in key order, checked against root."""
        return cls._from_records(None, records, root)

    @staticmethod
    def key_class(class_id):
        key, n = (c_uint8 * RECORD_KEY_MAX)(), c_size_t(0)
        _check(_C.opg_pricer_key_class(key, byref(n), class_id), "opg_pricer_key_class")
        return bytes(key[:n.value])

    @staticmethod
    def _class_struct(c, names):
        if isinstance(c, opg_pricer_class):
            return c
        if dataclasses.is_dataclass(c):
            c = {"id": c.id, "multiplier": c.multiplier}
        mult = c.get("multiplier", ())
        if isinstance(mult, dict):
            by_index = ["0"] * len(names)
            for name, m in mult.items():
                if name not in names:
                    raise ValueError(f"no dimension {name!r}")
                by_index[names.index(name)] = m
            mult = by_index
        return opg_pricer_class.make({"id": c["id"], "multiplier": mult})

    def _names(self):
        return [self.dimension(i).name for i in range(self.dimension_count())]

    def _trim(self, values):
        return values[:self.dimension_count()]

    # ---- inspection
    def dimension_count(self):
        return _C.opg_pricer_dimension_count(self._p)

    def dimension_index(self, name):
        if isinstance(name, int):
            return name
        out = c_size_t()
        self._query("dimension_find", byref(out), self._p, name.encode())
        return out.value

    def dimension(self, which):
        """PricerDimension (its parameters; initial_base_fee is the base fee now)."""
        out = opg_pricer_dimension()
        self._query("dimension_get", byref(out), None, self._p, self.dimension_index(which))
        return out.to_py()

    def dimension_state(self, which):
        """DimensionState: base_fee, usage in this block, exponential excess."""
        out = opg_pricer_dimension_state()
        self._query("dimension_get", None, byref(out), self._p, self.dimension_index(which))
        return out.to_py()

    def dimensions(self):
        return [self.dimension(i) for i in range(self.dimension_count())]

    def base_fees(self):
        return [self.dimension_state(i).base_fee for i in range(self.dimension_count())]

    def split(self):
        out = opg_pricer_split()
        _C.opg_pricer_split_get(byref(out), self._p)
        return out.to_py()

    def combine(self):
        return _enum_out(PricerCombine, _C.opg_pricer_combine_get(self._p))

    # ---- model classes
    def class_set(self, class_id, multipliers):
        """Adds or replaces a class; multipliers by index or {dimension name: m}."""
        c = self._class_struct({"id": class_id, "multiplier": multipliers}, self._names())
        self._call("class_set", self._p, byref(c))

    def class_remove(self, class_id):
        self._call("class_remove", self._p, class_id)

    def class_get(self, class_id):
        out = opg_pricer_class()
        self._query("class_get", byref(out), self._p, class_id)
        return self._class_rec(out)

    def classes(self):
        out = opg_pricer_class()
        res = []
        for i in range(_C.opg_pricer_class_count(self._p)):
            self._query("class_at", byref(out), self._p, i)
            res.append(self._class_rec(out))
        return res

    def _class_rec(self, c):
        rec = c.to_py()
        rec.multiplier = self._trim(rec.multiplier)
        return rec

    # ---- quote and charge
    def _request(self, units, model_class):
        r = opg_pricer_request(model_class=_check_int(c_uint32, model_class, "model_class"))
        if isinstance(units, dict):
            for name, u in units.items():
                r.units[self.dimension_index(name)] = _u(u)
        else:
            units = list(units)
            if len(units) > _ND:
                raise ValueError(f"at most {_ND} dimensions")
            for i, u in enumerate(units):
                r.units[i] = _u(u)
        return r

    def _price_rec(self, rec):
        rec.effective_units = self._trim(rec.effective_units)
        rec.dimension_fee = self._trim(rec.dimension_fee)
        return rec

    def quote(self, units, model_class):
        """Prices a request (units by dimension index, or {name: units}); a Price."""
        out = opg_pricer_price()
        self._query("quote", byref(out), self._p, byref(self._request(units, model_class)))
        return self._price_rec(out.to_py())

    def charge(self, units, model_class, max_fee=U256_MAX, max_priority_fee=0, verifiers=()):
        """Charges a request and records its usage; a Receipt whose
        verifier_amounts lists each verifier's part in the order given."""
        vs = [_i(v) for v in verifiers]
        ids = (opg_id * max(len(vs), 1))(*vs)
        amounts = (opg_u256 * max(len(vs), 1))()
        out = opg_pricer_receipt()
        self._call("charge", byref(out), amounts if vs else None, self._p,
                   byref(self._request(units, model_class)), _u(max_fee),
                   _u(max_priority_fee), ids if vs else None, len(vs))
        rec = out.to_py()
        self._price_rec(rec.price)
        rec.verifier_amounts = [int(amounts[i]) for i in range(len(vs))]
        return rec

    def end_block(self):
        """Moves every base fee by its controller; returns the new base fees."""
        fees = (opg_u256 * _ND)()
        self._call("end_block", fees, self._p)
        return [int(fees[i]) for i in range(self.dimension_count())]

# ================================================================= splitter

@_record
class opg_splitter_params(_Struct):
    _record_ = "SplitterParams"
    _enums_ = {"emission": EmissionKind}
    _fields_ = [
        ("community_tax", opg_dec),
        ("perf_share", opg_dec),
        ("emission", c_int),
        ("inflation_rate_change", opg_dec),
        ("inflation_max", opg_dec),
        ("inflation_min", opg_dec),
        ("goal_bonded", opg_dec),
        ("blocks_per_year", c_uint64),
        ("initial_inflation", opg_dec),
        ("pool_amount", opg_u256),
        ("pool_start", c_int64),
        ("half_life", c_int64),
        ("duration", c_int64),
    ]


@_record
class opg_emission_info(_Struct):
    _record_ = "EmissionInfo"
    _enums_ = {"kind": EmissionKind}
    _bools_ = ("paused",)
    _fields_ = [
        ("kind", c_int),
        ("inflation", opg_dec),
        ("pool_remaining", opg_u256),
        ("emitted_total", opg_u256),
        ("minted_total", opg_u256),
        ("paused", c_int),
    ]


@_record
class opg_commit_vote(_Struct):
    _record_ = "CommitVote"
    _fields_ = [
        ("consensus_key", opg_id),
        ("power", c_uint64),
        ("score", opg_dec),
    ]


@_record
class opg_node_rewards(_Struct):
    _record_ = "NodeRewards"
    _fields_ = [
        ("outstanding", opg_dec),
        ("commission", opg_dec),
        ("current", opg_dec),
        ("period", c_uint64),
        ("historical", c_uint64),
        ("slashes", c_uint64),
    ]


@_record
class opg_splitter_totals(_Struct):
    _record_ = "SplitterTotals"
    _fields_ = [
        ("minted", opg_dec),
        ("emitted", opg_dec),
        ("fees", opg_dec),
        ("pending", opg_dec),
        ("paid_delegators", opg_dec),
        ("paid_commission", opg_dec),
        ("community_pool", opg_dec),
        ("community_spent", opg_dec),
        ("outstanding", opg_dec),
    ]


_declare_handle("opg_splitter", engine=True)
_declare_records("opg_splitter", engine=True)
_declare("opg_splitter_params_init", None, POINTER(opg_splitter_params))
_declare("opg_splitter_new", c_int, POINTER(_H), _H, POINTER(opg_splitter_params), c_void_p)
_declare("opg_splitter_mint", c_int, _PU, _H, _U64, _I64)
_declare("opg_splitter_pause", c_int, _H, _I64)
_declare("opg_splitter_resume", c_int, _H, _I64)
_declare("opg_splitter_decay_remaining", c_int, _PU, _PU, _I64, _I64, _I64)
_declare("opg_splitter_emission", None, POINTER(opg_emission_info), _H)
_declare("opg_splitter_add_fees", c_int, _H, _PU)
_declare("opg_splitter_allocate", c_int, _H, POINTER(opg_commit_vote), c_size_t, _U64, _I64)
_declare("opg_splitter_allocate_to_node", c_int, _H, _PI, _PU)
_declare("opg_splitter_withdraw_rewards", c_int, _PU, _H, _PI, _PI, _U64, _I64)
_declare("opg_splitter_withdraw_commission", c_int, _PU, _H, _PI)
_declare("opg_splitter_community_pool_spend", c_int, _H, _PU)
_declare("opg_splitter_fund_community_pool", c_int, _H, _PU)
_declare("opg_splitter_pending_rewards", c_int, _PD, _H, _PI, _PI, _U64)
_declare("opg_splitter_node_rewards", c_int, POINTER(opg_node_rewards), _H, _PI)
_declare("opg_splitter_totals_get", None, POINTER(opg_splitter_totals), _H)


def decay_remaining(p0, t0, half_life, t):
    """R(t) of a decay pool, P0 * 2^(-(t - t0)/h) floored (opg_splitter_decay_remaining)."""
    out = opg_u256()
    _check(_C.opg_splitter_decay_remaining(byref(out), _u(p0), t0, half_life, t),
           "opg_splitter_decay_remaining")
    return int(out)


class _Engine(_Handle):
    """A handle created on a registry: it keeps the registry alive, and the registry
    closes it first when the registry is closed."""
    registry = None

    def _attach(self, registry, ptr):
        self.registry = registry
        self._adopt(ptr, registry)

    @classmethod
    def load(cls, registry, data):
        """An engine on registry (holding the matching registry state) from saved bytes."""
        self = cls._loaded(registry, data, registry._p)
        self.registry = registry
        return self

    @classmethod
    def load_records(cls, registry, records, root=None):
        """An engine on registry from (key, value) records in key order (a host's
        store), checked against root when given (the splitter and the slasher)."""
        self = cls._from_records(registry, records, root, registry._p)
        self.registry = registry
        return self


class Splitter(_Engine):
    """The reward splitter (opg_splitter) on a registry.

    Splitter(registry, **params): params are fields of opg_splitter_params
    (community_tax, perf_share, emission, inflation_*, goal_bonded, blocks_per_year,
    initial_inflation, pool_amount, pool_start, half_life, duration).
    """
    _prefix = "opg_splitter"

    def __init__(self, registry, **params):
        p = opg_splitter_params()
        _C.opg_splitter_params_init(byref(p))
        p.update(params)
        out = c_void_p()
        _check(_C.opg_splitter_new(byref(out), registry._p, byref(p), None), "opg_splitter_new")
        self._attach(registry, out.value)

    @staticmethod
    def default_params():
        p = opg_splitter_params()
        _C.opg_splitter_params_init(byref(p))
        return p.to_py()

    # ---- emission
    def mint(self, height, now):
        """Mints or emits for the block into the pending pot; returns the amount."""
        out = opg_u256()
        self._call("mint", byref(out), self._p, height, now)
        return int(out)

    def pause(self, now):
        self._call("pause", self._p, now)

    def resume(self, now):
        self._call("resume", self._p, now)

    def emission(self):
        out = opg_emission_info()
        _C.opg_splitter_emission(byref(out), self._p)
        return out.to_py()

    # ---- allocation
    def add_fees(self, amount):
        self._call("add_fees", self._p, _u(amount))

    def allocate(self, votes, height, now):
        """Distributes the pot over the last commit: votes are CommitVote records,
        dicts, or (consensus_key, power[, score]) tuples (score defaults to 1)."""
        items = []
        for v in votes:
            if isinstance(v, tuple):
                v = dict(zip(("consensus_key", "power", "score"), v))
                v.setdefault("score", 1)
            elif isinstance(v, dict):
                v = {"score": 1, **v}
            items.append(opg_commit_vote.make(v))
        arr = (opg_commit_vote * max(len(items), 1))(*items)
        self._call("allocate", self._p, arr, len(items), height, now)

    def allocate_to_node(self, operator_id, amount):
        self._call("allocate_to_node", self._p, _i(operator_id), _u(amount))

    # ---- withdrawals
    def withdraw_rewards(self, delegator, operator_id, height, now):
        """Pays the delegation's rewards; returns the whole units paid (the registry's
        events() then hold the REWARDS_PAID event)."""
        out = opg_u256()
        self._call("withdraw_rewards", byref(out), self._p, _i(delegator), _i(operator_id),
                   height, now)
        return int(out)

    def withdraw_commission(self, operator_id):
        out = opg_u256()
        self._call("withdraw_commission", byref(out), self._p, _i(operator_id))
        return int(out)

    def fund_community_pool(self, amount):
        """Adds whole units to the community pool (a fee's community share, a donation)."""
        self._call("fund_community_pool", self._p, _u(amount))

    def community_pool_spend(self, amount):
        self._call("community_pool_spend", self._p, _u(amount))

    # ---- queries
    def pending_rewards(self, delegator, operator_id, height):
        out = opg_dec()
        self._query("pending_rewards", byref(out), self._p, _i(delegator), _i(operator_id),
                    height)
        return out.to_py()

    def node_rewards(self, operator_id):
        out = opg_node_rewards()
        self._query("node_rewards", byref(out), self._p, _i(operator_id))
        return out.to_py()

    def totals(self):
        out = opg_splitter_totals()
        _C.opg_splitter_totals_get(byref(out), self._p)
        return out.to_py()

# ================================================================== slasher

class SlashReason(enum.IntEnum):
    DOWNTIME = 1
    DOUBLE_SIGN = 2
    FAULT = 3


class VoteType(enum.IntEnum):
    PREVOTE = 1
    PRECOMMIT = 2


class EvidenceKind(enum.IntEnum):
    DOUBLE_SIGN = 1
    FAULT = 2


_declare("opg_slasher_chain_id_max", c_size_t)
SLASHER_CHAIN_ID_MAX = 50
if hasattr(_C, "opg_slasher_chain_id_max") and \
        _C.opg_slasher_chain_id_max() != SLASHER_CHAIN_ID_MAX:
    raise ImportError("libopg's chain id limit differs from the struct this binding mirrors")


@_record
class opg_fault_class(_Struct):
    _record_ = "FaultClass"
    _bools_ = ("tombstone",)
    _fields_ = [
        ("id", c_uint32),
        ("slash_fraction", opg_dec),
        ("jail_duration", c_int64),
        ("tombstone", c_int),
    ]


@_record
class opg_slasher_params(_Struct):
    _record_ = "SlasherParams"
    _skip_ = ("fault_classes", "fault_class_count")
    _fields_ = [
        ("signed_blocks_window", c_uint64),
        ("min_signed_per_window", opg_dec),
        ("downtime_jail_duration", c_int64),
        ("slash_fraction_double_sign", opg_dec),
        ("slash_fraction_downtime", opg_dec),
        ("max_age_num_blocks", c_uint64),
        ("max_age_duration", c_int64),
        ("reporter_share", opg_dec),
        ("correlation_k", opg_dec),
        ("correlation_window", c_int64),
        ("chain_id", c_char * (SLASHER_CHAIN_ID_MAX + 1)),
        ("fault_classes", POINTER(opg_fault_class)),
        ("fault_class_count", c_size_t),
        ("defer_duration", c_int64),
    ]


@_record
class opg_slasher_record(_Struct):
    _record_ = "SlashRecord"
    _enums_ = {"reason": SlashReason}
    _bools_ = ("jailed", "tombstoned")
    _fields_ = [
        ("reason", c_int),
        ("node", opg_id),
        ("fault_class", c_uint32),
        ("infraction_height", c_uint64),
        ("power", c_uint64),
        ("fraction", opg_dec),
        ("slash", opg_slash_result),
        ("reporter", opg_id),
        ("reporter_reward", opg_u256),
        ("burned", opg_u256),
        ("jailed", c_int),
        ("jailed_until", c_int64),
        ("tombstoned", c_int),
        ("pending_id", c_uint64),
    ]


@_record
class opg_commit_sig(_Struct):
    _record_ = "CommitSig"
    _bools_ = ("signed_block",)
    _fields_ = [
        ("consensus_key", opg_id),
        ("power", c_uint64),
        ("signed_block", c_int),
    ]


@_record
class opg_signing_info(_Struct):
    _record_ = "SigningInfo"
    _fields_ = [
        ("start_height", c_uint64),
        ("index_offset", c_uint64),
        ("missed_blocks", c_uint64),
    ]


@_record
class opg_slasher_vote(_Struct):
    _record_ = "Vote"
    _enums_ = {"type": VoteType}
    _fields_ = [
        ("type", c_uint8),
        ("height", c_uint64),
        ("round", c_uint32),
        ("block_id", c_uint8 * 32),
        ("signature", c_uint8 * 64),
    ]


@_record
class opg_double_sign_evidence(_Struct):
    _record_ = "DoubleSignEvidence"
    _fields_ = [
        ("consensus_key", opg_id),
        ("vote_a", opg_slasher_vote),
        ("vote_b", opg_slasher_vote),
        ("infraction_time", c_int64),
        ("validator_power", c_uint64),
    ]


@_record
class opg_fault_evidence(_Struct):
    _record_ = "FaultEvidence"
    _fields_ = [
        ("evidence_id", opg_id),
        ("node", opg_id),
        ("infraction_height", c_uint64),
        ("infraction_time", c_int64),
        ("fault_class", c_uint32),
        ("reporter", opg_id),
    ]


class opg_evidence(_Struct):
    _enums_ = {"kind": EvidenceKind}
    _fields_ = [
        ("kind", c_int),
        ("double_sign", opg_double_sign_evidence),
        ("fault", opg_fault_evidence),
    ]


_declare_handle("opg_slasher", engine=True)
_declare_records("opg_slasher", engine=True)
_declare("opg_slasher_key_signing", c_int, c_void_p, POINTER(c_size_t), POINTER(opg_id))
_PSR = POINTER(opg_slasher_record)
_PDS, _PFE = POINTER(opg_double_sign_evidence), POINTER(opg_fault_evidence)
_declare("opg_slasher_params_init", None, POINTER(opg_slasher_params))
_declare("opg_slasher_params_get", None, POINTER(opg_slasher_params), _H)
_declare("opg_slasher_new", c_int, POINTER(_H), _H, POINTER(opg_slasher_params), c_void_p)
_declare("opg_slasher_fault_class_count", c_size_t, _H)
_declare("opg_slasher_fault_class_at", c_int, POINTER(opg_fault_class), _H, c_size_t)
_declare("opg_slasher_slashes", _PSR, _H, POINTER(c_size_t))
_declare("opg_slasher_record_commit", c_int, _H, POINTER(opg_commit_sig), c_size_t, _U64, _I64)
_declare("opg_slasher_signing_info", c_int, POINTER(opg_signing_info), _H, _PI)
_declare("opg_slasher_missed_bit", c_int, POINTER(c_int), _H, _PI, _U64)
_declare("opg_slasher_max_missed", c_uint64, _H)
_declare("opg_slasher_vote_sign_bytes", c_int, c_void_p, c_size_t, POINTER(c_size_t), c_char_p,
         POINTER(opg_slasher_vote))
_declare("opg_slasher_evidence_size", c_size_t, c_int)
_declare("opg_slasher_evidence_encode", c_int, c_void_p, c_size_t, POINTER(c_size_t),
         POINTER(opg_evidence))
_declare("opg_slasher_evidence_decode", c_int, POINTER(opg_evidence), c_char_p, c_size_t)
_declare("opg_slasher_double_sign_verify", c_int, c_char_p, _PDS)
_declare("opg_slasher_double_sign", c_int, _PSR, _H, _PDS, _U64, _I64)
_declare("opg_slasher_fault", c_int, _PSR, _H, _PFE, _U64, _I64)
_declare("opg_slasher_submit_evidence", c_int, _PSR, _H, c_char_p, c_size_t, _U64, _I64)
_declare("opg_slasher_evidence_seen", c_int, _H, _PI)
_declare("opg_slasher_evidence_seen_count", c_size_t, _H)


def vote_sign_bytes(chain_id, vote):
    """The bytes a validator signs for a vote (Ed25519 over exactly these)."""
    v = opg_slasher_vote.make(vote)
    return _blob_out(lambda buf, cap, n: _C.opg_slasher_vote_sign_bytes(
        buf, cap, n, chain_id.encode(), byref(v)), "opg_slasher_vote_sign_bytes")


def _evidence(ev):
    """An opg_evidence from a DoubleSignEvidence or FaultEvidence (record, struct or
    dict; a dict with "vote_a" is double-sign evidence)."""
    out = opg_evidence()
    if isinstance(ev, (opg_double_sign_evidence, DoubleSignEvidence)) or (  # noqa: F821
            isinstance(ev, dict) and "vote_a" in ev):
        out.kind = EvidenceKind.DOUBLE_SIGN
        out.double_sign = opg_double_sign_evidence.make(ev)
    else:
        out.kind = EvidenceKind.FAULT
        out.fault = opg_fault_evidence.make(ev)
    return out


def evidence_encode(evidence):
    """The canonical bytes of double-sign or faulty-inference evidence."""
    ev = _evidence(evidence)
    return _blob_out(lambda buf, cap, n: _C.opg_slasher_evidence_encode(buf, cap, n, byref(ev)),
                     "opg_slasher_evidence_encode")


def evidence_decode(data):
    """A DoubleSignEvidence or FaultEvidence from canonical bytes (OpgError EEVIDENCE)."""
    ev = opg_evidence()
    data = bytes(data)
    _check(_C.opg_slasher_evidence_decode(byref(ev), data, len(data)),
           "opg_slasher_evidence_decode")
    return ev.double_sign.to_py() if ev.kind == EvidenceKind.DOUBLE_SIGN else ev.fault.to_py()


def double_sign_verify(chain_id, evidence):
    """Checks double-sign evidence alone: form, conflict, both signatures."""
    ev = opg_double_sign_evidence.make(evidence)
    _check(_C.opg_slasher_double_sign_verify(chain_id.encode(), byref(ev)),
           "opg_slasher_double_sign_verify")


class Slasher(_Engine):
    """The slashing engine (opg_slasher) on a registry: liveness, double-sign and
    faulty-inference evidence.

    Slasher(registry, fault_classes=(), **params): params are fields of
    opg_slasher_params (signed_blocks_window, min_signed_per_window, chain_id, ...);
    fault_classes are FaultClass records or dicts {id, slash_fraction, jail_duration,
    tombstone}.
    """
    _prefix = "opg_slasher"

    def __init__(self, registry, fault_classes=(), **params):
        p = opg_slasher_params()
        _C.opg_slasher_params_init(byref(p))
        p.update(params)
        fcs = [opg_fault_class.make(c) for c in fault_classes]
        arr = (opg_fault_class * max(len(fcs), 1))(*fcs)
        p.fault_classes = ctypes.cast(arr, POINTER(opg_fault_class))
        p.fault_class_count = len(fcs)
        out = c_void_p()
        _check(_C.opg_slasher_new(byref(out), registry._p, byref(p), None), "opg_slasher_new")
        self._attach(registry, out.value)

    @staticmethod
    def default_params():
        p = opg_slasher_params()
        _C.opg_slasher_params_init(byref(p))
        return p.to_py()

    def params(self):
        p = opg_slasher_params()
        _C.opg_slasher_params_get(byref(p), self._p)
        return p.to_py()

    def fault_classes(self):
        out = opg_fault_class()
        res = []
        for i in range(_C.opg_slasher_fault_class_count(self._p)):
            self._query("fault_class_at", byref(out), self._p, i)
            res.append(out.to_py())
        return res

    def slashes(self):
        """The slashes of the last call that changed the slasher (SlashRecord list)."""
        n = c_size_t(0)
        return _array_out(_C.opg_slasher_slashes(self._p, byref(n)), n.value)

    # ---- liveness
    def record_commit(self, entries, height, now):
        """Records the last commit; entries are CommitSig records, dicts or
        (consensus_key, power, signed) tuples. Returns the slashes it made."""
        items = []
        for e in entries:
            if isinstance(e, tuple):
                e = dict(zip(("consensus_key", "power", "signed_block"), e))
            items.append(opg_commit_sig.make(e))
        arr = (opg_commit_sig * max(len(items), 1))(*items)
        self._call("record_commit", self._p, arr, len(items), height, now)
        return self.slashes()

    def signing_info(self, operator_id):
        out = opg_signing_info()
        self._query("signing_info", byref(out), self._p, _i(operator_id))
        return out.to_py()

    def missed_bit(self, operator_id, index):
        out = c_int()
        self._query("missed_bit", byref(out), self._p, _i(operator_id), index)
        return bool(out.value)

    def max_missed(self):
        return _C.opg_slasher_max_missed(self._p)

    # ---- evidence
    def double_sign(self, evidence, height, now):
        """Double-sign evidence (DoubleSignEvidence); returns the SlashRecord."""
        out = opg_slasher_record()
        ev = opg_double_sign_evidence.make(evidence)
        self._call("double_sign", byref(out), self._p, byref(ev), height, now)
        return out.to_py()

    def fault(self, evidence, height, now):
        """Faulty-inference evidence (FaultEvidence); returns the SlashRecord."""
        out = opg_slasher_record()
        ev = opg_fault_evidence.make(evidence)
        self._call("fault", byref(out), self._p, byref(ev), height, now)
        return out.to_py()

    def submit_evidence(self, data, height, now):
        """Canonical evidence bytes of either kind; returns the SlashRecord."""
        out = opg_slasher_record()
        data = bytes(data)
        self._call("submit_evidence", byref(out), self._p, data, len(data), height, now)
        return out.to_py()

    def evidence_seen(self, evidence_id):
        return bool(_C.opg_slasher_evidence_seen(self._p, _i(evidence_id)))

    def evidence_seen_count(self):
        return _C.opg_slasher_evidence_seen_count(self._p)

# ============================================================== hyperstaking

class HyperPolicyKind(enum.IntEnum):
    FIXED = 1
    PERFORMANCE = 2
    HOST = 3


class HyperMoveKind(enum.IntEnum):
    DELEGATE = 1
    UNDELEGATE = 2
    REDELEGATE = 3
    COMPOUND = 4
    PAYOUT = 5
    SKIPPED = 6
    REFUND = 7
    MATURED = 8
    CLAIM = 9
    STRATEGY = 10
    ROUTE = 11
    GUARD = 12


class HyperRouteKind(enum.IntEnum):
    ACCOUNT = 1
    COMMUNITY_POOL = 2
    POSITION = 3


@_record
class opg_hyper_params(_Struct):
    _record_ = "HyperParams"
    _fields_ = [
        ("max_positions_per_owner", c_uint32),
        ("max_nodes", c_uint32),
        ("vault_node_cap", opg_dec),
        ("vault_decimals_offset", c_uint32),
    ]


@_record
class opg_hyper_weight(_Struct):
    _record_ = "HyperWeight"
    _fields_ = [
        ("node", opg_id),
        ("weight", opg_dec),
    ]


class opg_hyper_policy(_Struct):
    _enums_ = {"kind": HyperPolicyKind}
    _bools_ = ("auto_compound",)
    _fields_ = [
        ("kind", c_int),
        ("weights", POINTER(opg_hyper_weight)),
        ("n_weights", c_size_t),
        ("max_commission", opg_dec),
        ("cap", opg_dec),
        ("max_nodes", c_uint32),
        ("auto_compound", c_int),
        ("rebalance_threshold", opg_dec),
        ("max_churn", opg_dec),
    ]


@_record
class opg_hyper_move(_Struct):
    _record_ = "HyperMove"
    _enums_ = {"kind": HyperMoveKind}
    _fields_ = [
        ("kind", c_int),
        ("code", c_int),
        ("position", opg_id),
        ("owner", opg_id),
        ("src", opg_id),
        ("dst", opg_id),
        ("amount", opg_u256),
        ("completion", c_int64),
    ]


@_record
class opg_hyper_score(_Struct):
    _record_ = "HyperScore"
    _fields_ = [
        ("node", opg_id),
        ("score", opg_dec),
    ]


@_record
class opg_hyper_position_info(_Struct):
    _record_ = "HyperPosition"
    _enums_ = {"kind": HyperPolicyKind}
    _bools_ = ("auto_compound",)
    _fields_ = [
        ("id", opg_id),
        ("owner", opg_id),
        ("kind", c_int),
        ("n_weights", c_size_t),
        ("max_commission", opg_dec),
        ("cap", opg_dec),
        ("max_nodes", c_uint32),
        ("auto_compound", c_int),
        ("rebalance_threshold", opg_dec),
        ("max_churn", opg_dec),
        ("created_height", c_uint64),
        ("deposited", opg_u256),
        ("withdrawn", opg_u256),
        ("compounded", opg_u256),
        ("paid_out", opg_u256),
        ("staked", opg_u256),
        ("n_delegations", c_size_t),
        ("routed_in", opg_u256),
        ("n_routes", c_size_t),
    ]


@_record
class opg_hyper_route(_Struct):
    _record_ = "HyperRoute"
    _enums_ = {"kind": HyperRouteKind}
    _fields_ = [
        ("kind", c_int),
        ("dst", opg_id),
        ("share", opg_dec),
    ]


@_record
class opg_hyper_vault_info(_Struct):
    _record_ = "HyperVault"
    _fields_ = [
        ("total_assets", opg_u256),
        ("staked", opg_u256),
        ("accrued", opg_u256),
        ("idle", opg_u256),
        ("total_shares", opg_u256),
        ("queued", opg_u256),
        ("queued_idle", opg_u256),
        ("claimable", opg_u256),
        ("decimals_offset", c_uint32),
        ("n_holders", c_size_t),
        ("share_price", opg_dec),
    ]


@_record
class opg_hyper_vault_report(_Struct):
    _record_ = "HyperVaultReport"
    _fields_ = [
        ("vault", opg_id),
        ("total_assets", opg_u256),
        ("total_shares", opg_u256),
        ("share_price", opg_dec),
        ("guard_held", opg_u256),
    ]


_STRATEGY_FN = ctypes.CFUNCTYPE(c_int, POINTER(opg_hyper_weight), c_size_t, POINTER(c_size_t),
                                c_void_p, _PI, c_uint64)

_declare_handle("opg_hyper", has_check=False)
_declare("opg_hyper_load", c_int, POINTER(_H), _H, _H, c_char_p, c_size_t, c_void_p)
_PHP, _PHW = POINTER(opg_hyper_policy), POINTER(opg_hyper_weight)
_declare("opg_hyper_params_init", None, POINTER(opg_hyper_params))
_declare("opg_hyper_new", c_int, POINTER(_H), _H, _H, POINTER(opg_hyper_params), c_void_p)
_declare("opg_hyper_moves", POINTER(opg_hyper_move), _H, POINTER(c_size_t))
_declare("opg_hyper_events", POINTER(opg_event), _H, POINTER(c_size_t))
_declare("opg_hyper_position_create", c_int, _H, _PI, _PI, _PHP, _U64)
_declare("opg_hyper_position_set_policy", c_int, _H, _PI, _PHP)
_declare("opg_hyper_position_close", c_int, _H, _PI)
_declare("opg_hyper_deposit", c_int, _H, _PI, _PU, _U64, _I64)
_declare("opg_hyper_withdraw", c_int, _PU, _H, _PI, _PU, _U64, _I64)
_declare("opg_hyper_epoch", c_int, POINTER(c_size_t), _H, POINTER(opg_hyper_score), c_size_t,
         _U64, _I64)
_declare("opg_hyper_position_get", c_int, POINTER(opg_hyper_position_info), _H, _PI)
_declare("opg_hyper_position_count", c_size_t, _H)
_declare("opg_hyper_position_at", c_int, _PI, _H, c_size_t)
_declare("opg_hyper_position_weights", c_int, _PHW, c_size_t, POINTER(c_size_t), _H, _PI)
_declare("opg_hyper_targets", c_int, _PHW, c_size_t, POINTER(c_size_t), _H, _PI)
_declare("opg_hyper_set_strategy_fn", c_int, _H, _STRATEGY_FN, c_void_p)
_declare("opg_hyper_set_routes", c_int, _H, _PI, POINTER(opg_hyper_route), c_size_t)
_declare("opg_hyper_routes", c_int, POINTER(opg_hyper_route), c_size_t, POINTER(c_size_t), _H, _PI)
_declare("opg_hyper_vault_create", c_int, _H, _PI, _PHP, _U64)
for _v in ("deposit", "mint", "withdraw", "redeem"):
    _declare(f"opg_hyper_vault_preview_{_v}", c_int, _PU, _H, _PI, _PU, _U64)
_declare("opg_hyper_vault_deposit", c_int, _PU, _H, _PI, _PI, _PU, _U64, _I64)
_declare("opg_hyper_vault_mint", c_int, _PU, _H, _PI, _PI, _PU, _U64, _I64)
_declare("opg_hyper_vault_withdraw", c_int, _PU, POINTER(c_uint64), _H, _PI, _PI, _PU, _U64, _I64)
_declare("opg_hyper_vault_redeem", c_int, _PU, POINTER(c_uint64), _H, _PI, _PI, _PU, _U64, _I64)
_declare("opg_hyper_vault_transfer", c_int, _H, _PI, _PI, _PI, _PU)
_declare("opg_hyper_vault_claim", c_int, _PU, _H, _PI, _PI)
_declare("opg_hyper_end_block", c_int, _H, _U64, _I64)
_declare("opg_hyper_vault_get", c_int, POINTER(opg_hyper_vault_info), _H, _PI, _U64)
_declare("opg_hyper_vault_balance", c_int, _PU, _PU, _H, _PI, _PI)
_declare("opg_hyper_vault_holder_at", c_int, _PI, _H, _PI, c_size_t)
_declare("opg_hyper_vault_reports", POINTER(opg_hyper_vault_report), _H, POINTER(c_size_t))


def _pairs(items, struct_cls, names):
    """Structs from records, dicts, (a, b) tuples or a {a: b} mapping."""
    if isinstance(items, dict):
        items = list(items.items())
    out = []
    for x in items:
        if isinstance(x, tuple):
            x = dict(zip(names, x))
        out.append(struct_cls.make(x))
    return out


class Hyper(_Engine):
    """Hyperstaking (opg_hyper): staking positions managed by a policy, on a registry
    and its splitter (both stay alive while it lives; closing either closes it first).

    A policy is a dict (or keywords) of opg_hyper_policy's fields: kind ("fixed" or
    "performance"), weights (FIXED: {node: weight} or (node, weight) pairs),
    max_commission, cap, max_nodes, auto_compound, rebalance_threshold.
    """
    _prefix = "opg_hyper"
    splitter = None

    def __init__(self, registry, splitter, **params):
        p = opg_hyper_params()
        _C.opg_hyper_params_init(byref(p))
        p.update(params)
        out = c_void_p()
        _check(_C.opg_hyper_new(byref(out), registry._p, splitter._p, byref(p), None),
               "opg_hyper_new")
        self.registry, self.splitter = registry, splitter
        self._adopt(out.value, splitter)  # the splitter (itself on the registry) closes it

    @classmethod
    def load(cls, registry, splitter, data):
        """A handle on registry and splitter (loaded first) from saved bytes."""
        self = cls._loaded(splitter, data, registry._p, splitter._p)
        self.registry, self.splitter = registry, splitter
        return self

    @staticmethod
    def default_params():
        p = opg_hyper_params()
        _C.opg_hyper_params_init(byref(p))
        return p.to_py()

    @staticmethod
    def _policy(policy, kw):
        values = dict(policy or {}, **kw)
        weights = _pairs(values.pop("weights", ()), opg_hyper_weight, ("node", "weight"))
        p = opg_hyper_policy.make(values)
        arr = (opg_hyper_weight * max(len(weights), 1))(*weights)
        p.weights = ctypes.cast(arr, _PHW) if weights else None
        p.n_weights = len(weights)
        return p, arr  # the array must outlive the call

    def moves(self):
        """The moves and payouts of the last call that changed the handle."""
        n = c_size_t(0)
        return _array_out(_C.opg_hyper_moves(self._p, byref(n)), n.value)

    def events(self):
        """Registry events of the last call other than the positions' own rewards."""
        n = c_size_t(0)
        return _array_out(_C.opg_hyper_events(self._p, byref(n)), n.value)

    # ---- positions
    def position_create(self, position, owner, height, policy=None, **kw):
        p, keep = self._policy(policy, kw)
        self._call("position_create", self._p, _i(position), _i(owner), byref(p), height)

    def position_set_policy(self, position, policy=None, **kw):
        p, keep = self._policy(policy, kw)
        self._call("position_set_policy", self._p, _i(position), byref(p))

    def position_close(self, position):
        self._call("position_close", self._p, _i(position))

    def deposit(self, position, amount, height, now):
        """Splits and delegates a deposit; returns the moves (HyperMove list)."""
        self._call("deposit", self._p, _i(position), _u(amount), height, now)
        return self.moves()

    def withdraw(self, position, amount, height, now):
        """Undelegates pro rata; returns the total put into unbonding (moves())."""
        out = opg_u256()
        self._call("withdraw", byref(out), self._p, _i(position), _u(amount), height, now)
        return int(out)

    def epoch(self, height, now, scores=None):
        """The epoch boundary; scores are {node: score}, (node, score) pairs or
        HyperScore records, None to keep the last ones. Returns the moves."""
        items = None if scores is None else _pairs(scores, opg_hyper_score, ("node", "score"))
        arr = (opg_hyper_score * max(len(items or ()), 1))(*(items or ()))
        done = c_size_t(0)
        self._call("epoch", byref(done), self._p, arr if items is not None else None,
                   len(items or ()), height, now)
        return self.moves()

    # ---- queries
    def position(self, position):
        out = opg_hyper_position_info()
        self._query("position_get", byref(out), self._p, _i(position))
        return out.to_py()

    def positions(self):
        """Every position id, in id order."""
        out = opg_id()
        res = []
        for i in range(_C.opg_hyper_position_count(self._p)):
            self._query("position_at", byref(out), self._p, i)
            res.append(out.to_py())
        return res

    def position_weights(self, position):
        pid = _i(position)
        return _list_out(lambda o, c, n: _C.opg_hyper_position_weights(o, c, n, self._p, pid),
                         opg_hyper_weight, "opg_hyper_position_weights")

    def targets(self, position):
        """The position's target weights now (HyperWeight list, node id order)."""
        pid = _i(position)
        return _list_out(lambda o, c, n: _C.opg_hyper_targets(o, c, n, self._p, pid),
                         opg_hyper_weight, "opg_hyper_targets")

    # ---- host strategies
    def set_strategy_fn(self, fn):
        """The HOST policies' strategy: fn(position: Id, height: int) -> {node: weight}
        or (node, weight) pairs (weights adding up to exactly 1), asked at each epoch.
        An exception or a bad answer keeps the previous target; the epoch's STRATEGY
        move says why (an exception: EINVAL). None removes it."""
        if fn is None:
            _C.opg_hyper_set_strategy_fn(self._p, _STRATEGY_FN(), None)
            self._strategy = None
            return

        def cb(out, cap, count, _user, position, height):
            try:
                pairs = _pairs(fn(position[0].to_py(), int(height)), opg_hyper_weight,
                               ("node", "weight"))
            except Exception:
                return EINVAL  # noqa: F821
            count[0] = len(pairs)
            for i, w in enumerate(pairs[:cap]):
                out[i] = w
            return 0
        c = _STRATEGY_FN(cb)
        _C.opg_hyper_set_strategy_fn(self._p, c, None)
        self._strategy = (c, fn)  # kept alive while set

    # ---- yield routing
    def set_routes(self, position, routes):
        """routes: dicts or (kind, dst, share) tuples; kind "account", "community_pool"
        or "position" (or HyperRouteKind); dst None for the pool."""
        items = []
        for r in routes:
            if isinstance(r, tuple):
                r = dict(zip(("kind", "dst", "share"), r))
            r = dict(r)
            if r.get("dst") is None:
                r["dst"] = bytes(32)
            items.append(opg_hyper_route.make(r))
        arr = (opg_hyper_route * max(len(items), 1))(*items)
        self._call("set_routes", self._p, _i(position), arr if items else None, len(items))

    def routes(self, position):
        pid = _i(position)
        return _list_out(lambda o, c, n: _C.opg_hyper_routes(o, c, n, self._p, pid),
                         opg_hyper_route, "opg_hyper_routes")

    # ---- vaults
    def vault_create(self, vault, height, policy=None, **kw):
        """A vault: a position owned by ERC-4626 shares (policy must auto-compound)."""
        p, keep = self._policy(policy, kw)
        self._call("vault_create", self._p, _i(vault), byref(p), height)

    def _preview(self, verb, vault, x, height):
        out = opg_u256()
        self._query(f"vault_preview_{verb}", byref(out), self._p, _i(vault), _u(x), height)
        return int(out)

    def preview_deposit(self, vault, assets, height):
        return self._preview("deposit", vault, assets, height)

    def preview_mint(self, vault, shares, height):
        return self._preview("mint", vault, shares, height)

    def preview_withdraw(self, vault, assets, height):
        return self._preview("withdraw", vault, assets, height)

    def preview_redeem(self, vault, shares, height):
        return self._preview("redeem", vault, shares, height)

    def vault_deposit(self, vault, holder, assets, height, now):
        """Returns the shares issued to holder."""
        out = opg_u256()
        self._call("vault_deposit", byref(out), self._p, _i(vault), _i(holder), _u(assets), height, now)
        return int(out)

    def vault_mint(self, vault, holder, shares, height, now):
        """Returns the assets it cost (debit holder)."""
        out = opg_u256()
        self._call("vault_mint", byref(out), self._p, _i(vault), _i(holder), _u(shares), height, now)
        return int(out)

    def vault_withdraw(self, vault, holder, assets, height, now):
        """Returns (shares burned, claim id)."""
        out, cid = opg_u256(), c_uint64(0)
        self._call("vault_withdraw", byref(out), byref(cid), self._p, _i(vault), _i(holder),
                   _u(assets), height, now)
        return int(out), cid.value

    def vault_redeem(self, vault, holder, shares, height, now):
        """Returns (assets of the claim, claim id)."""
        out, cid = opg_u256(), c_uint64(0)
        self._call("vault_redeem", byref(out), byref(cid), self._p, _i(vault), _i(holder),
                   _u(shares), height, now)
        return int(out), cid.value

    def vault_transfer(self, vault, src, dst, shares):
        self._call("vault_transfer", self._p, _i(vault), _i(src), _i(dst), _u(shares))

    def vault_claim(self, vault, holder):
        """Pays holder's matured claims; returns the amount (a CLAIM move)."""
        out = opg_u256()
        self._call("vault_claim", byref(out), self._p, _i(vault), _i(holder))
        return int(out)

    def end_block(self, height, now):
        """Matures due vault claims; call before Registry.end_block. Returns the moves."""
        self._call("end_block", self._p, height, now)
        return self.moves()

    def vault(self, vault, height):
        out = opg_hyper_vault_info()
        self._query("vault_get", byref(out), self._p, _i(vault), height)
        return out.to_py()

    def vault_balance(self, vault, holder):
        """(shares, claimable) of holder."""
        s, c = opg_u256(), opg_u256()
        self._query("vault_balance", byref(s), byref(c), self._p, _i(vault), _i(holder))
        return int(s), int(c)

    def vault_holders(self, vault):
        out, res, i = opg_id(), [], 0
        while _C.opg_hyper_vault_holder_at(byref(out), self._p, _i(vault), i) == 0:
            res.append(out.to_py())
            i += 1
        return res

    def vault_reports(self):
        """The share price of every vault after the last epoch (HyperVaultReport list)."""
        n = c_size_t(0)
        return _array_out(_C.opg_hyper_vault_reports(self._p, byref(n)), n.value)

# ==================================================================== tally

class ProposalKind(enum.IntEnum):
    TEXT = 0
    PARAMS = 1
    PAYLOAD = 2
    ADD_VALIDATOR = 3
    REMOVE_VALIDATOR = 4
    CANCEL_SLASH = 5


class ProposalStatus(enum.IntEnum):
    DEPOSIT_PERIOD = 1
    VOTING_PERIOD = 2


class VoteOption(enum.IntEnum):
    YES = 1
    ABSTAIN = 2
    NO = 3
    NO_WITH_VETO = 4


class TallyOutcome(enum.IntEnum):
    PASSED = 1
    REJECTED = 2
    FAILED = 3
    REMOVED = 4
    CANCELLED = 5
    CONVERTED = 6


@_record
class opg_tally_params(_Struct):
    _record_ = "TallyParams"
    _bools_ = ("burn_vote_quorum", "burn_vote_veto", "burn_proposal_deposit_prevote",
               "conviction_voting")
    _fields_ = [
        ("min_deposit", opg_u256),
        ("min_deposit_expedited_ratio", opg_dec),
        ("max_deposit_period", c_int64),
        ("voting_period", c_int64),
        ("expedited_voting_period", c_int64),
        ("quorum", opg_dec),
        ("threshold", opg_dec),
        ("expedited_threshold", opg_dec),
        ("veto_threshold", opg_dec),
        ("burn_vote_quorum", c_int),
        ("burn_vote_veto", c_int),
        ("burn_proposal_deposit_prevote", c_int),
        ("liquid_weight", opg_dec),
        ("proposal_cancel_ratio", opg_dec),
        ("conviction_voting", c_int),
        ("vote_locking_period", c_int64),
    ]


@_record
class opg_param_change(_Struct):
    _record_ = "ParamChange"
    _fields_ = [
        ("key", c_char_p),
        ("value", c_char_p),
    ]


class opg_proposal_submit(_Struct):
    _enums_ = {"kind": ProposalKind}
    _bools_ = ("expedited",)
    _fields_ = [
        ("proposer", opg_id),
        ("kind", c_int),
        ("expedited", c_int),
        ("initial_deposit", opg_u256),
        ("title", c_char_p),
        ("summary", c_char_p),
        ("changes", POINTER(opg_param_change)),
        ("change_count", c_size_t),
        ("payload", c_void_p),
        ("payload_len", c_size_t),
        ("validator", POINTER(opg_node_create)),
        ("operator_id", POINTER(opg_id)),
        ("slash_id", c_uint64),
        ("cancel_fraction", opg_dec),
    ]


@_record
class opg_weighted_vote(_Struct):
    _record_ = "WeightedVote"
    _enums_ = {"option": VoteOption}
    _fields_ = [
        ("option", c_int),
        ("weight", opg_dec),
    ]


@_record
class opg_tally_counts(_Struct):
    _record_ = "TallyCounts"
    _fields_ = [
        ("yes", opg_u256),
        ("abstain", opg_u256),
        ("no", opg_u256),
        ("no_with_veto", opg_u256),
    ]


@_record
class opg_tally_deposit_entry(_Struct):
    _record_ = "Deposit"
    _fields_ = [
        ("depositor", opg_id),
        ("amount", opg_u256),
    ]


def _bytes_at(ptr, n):
    return ctypes.string_at(ptr, n) if ptr else b""


@_record
class opg_tally_closed(_Struct):
    """refunds and payload come out as a list and bytes (None: no payload)."""
    _record_ = "ClosedProposal"
    _enums_ = {"outcome": TallyOutcome, "kind": ProposalKind}
    _bools_ = ("expedited",)
    _skip_ = ("refunds", "refund_count", "payload", "payload_len")
    _extra_ = ("refunds", "payload")
    _fields_ = [
        ("proposal_id", c_uint64),
        ("outcome", c_int),
        ("kind", c_int),
        ("proposer", opg_id),
        ("expedited", c_int),
        ("counts", opg_tally_counts),
        ("refunds", POINTER(opg_tally_deposit_entry)),
        ("refund_count", c_size_t),
        ("refunded", opg_u256),
        ("burned", opg_u256),
        ("failed_change", c_uint32),
        ("failed_code", c_int),
        ("payload", c_void_p),
        ("payload_len", c_size_t),
    ]

    def to_py(self):
        rec = super().to_py()
        rec.refunds = _array_out(self.refunds, self.refund_count)
        rec.payload = _bytes_at(self.payload, self.payload_len) if self.payload else None
        return rec


@_record
class opg_proposal_info(_Struct):
    """title and summary come out as str, payload as bytes."""
    _record_ = "ProposalInfo"
    _enums_ = {"kind": ProposalKind, "status": ProposalStatus}
    _bools_ = ("expedited",)
    _skip_ = ("title", "title_len", "summary", "summary_len", "payload", "payload_len")
    _extra_ = ("title", "summary", "payload")
    _fields_ = [
        ("id", c_uint64),
        ("proposer", opg_id),
        ("kind", c_int),
        ("status", c_int),
        ("expedited", c_int),
        ("submit_time", c_int64),
        ("deposit_end", c_int64),
        ("voting_start", c_int64),
        ("voting_end", c_int64),
        ("total_deposit", opg_u256),
        ("deposit_count", c_size_t),
        ("vote_count", c_size_t),
        ("change_count", c_size_t),
        ("title", c_void_p),
        ("title_len", c_size_t),
        ("summary", c_void_p),
        ("summary_len", c_size_t),
        ("payload", c_void_p),
        ("payload_len", c_size_t),
    ]

    def to_py(self):
        rec = super().to_py()
        rec.title = _bytes_at(self.title, self.title_len).decode("utf-8", "replace")
        rec.summary = _bytes_at(self.summary, self.summary_len).decode("utf-8", "replace")
        rec.payload = _bytes_at(self.payload, self.payload_len)
        return rec


@_record
class opg_tally_preview_result(_Struct):
    """results[option - 1] is the option's power before truncation."""
    _record_ = "TallyPreview"
    _enums_ = {"outcome": TallyOutcome}
    _bools_ = ("burn",)
    _fields_ = [
        ("counts", opg_tally_counts),
        ("results", opg_dec * 4),
        ("total_power", opg_dec),
        ("bonded_total", opg_u256),
        ("outcome", c_int),
        ("burn", c_int),
        ("turnout", opg_dec),
    ]


_BALANCE_FN = ctypes.CFUNCTYPE(c_int, c_void_p, _PI, _PU)
_SET_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_char_p, c_char_p)
_GET_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_size_t, POINTER(c_size_t), c_void_p, c_char_p)

_declare_handle("opg_tally", has_check=False, engine=True)
_PTC = POINTER(opg_tally_closed)
_declare("opg_tally_params_init", None, POINTER(opg_tally_params))
_declare("opg_tally_params_get", None, POINTER(opg_tally_params), _H)
_declare("opg_tally_new", c_int, POINTER(_H), _H, POINTER(opg_tally_params), c_void_p)
_declare("opg_tally_set_balance_fn", None, _H, _BALANCE_FN, c_void_p)
_declare("opg_tally_attach_pricer", c_int, _H, _H)
_declare("opg_tally_attach_splitter", c_int, _H, _H)
_declare("opg_tally_attach_slasher", c_int, _H, _H)
_declare("opg_tally_attach_params", c_int, _H, c_char_p, c_void_p, _SET_FN, _GET_FN)
_declare("opg_tally_submit", c_int, POINTER(c_uint64), _H, POINTER(opg_proposal_submit), _I64)
_declare("opg_tally_deposit", c_int, POINTER(c_int), _H, _U64, _PI, _PU, _I64)
_declare("opg_tally_vote", c_int, _H, _U64, _PI, POINTER(opg_weighted_vote), c_size_t)
_declare("opg_tally_vote_option", c_int, _H, _U64, _PI, c_int)
_declare("opg_tally_vote_conviction", c_int, _H, _U64, _PI, POINTER(opg_weighted_vote), c_size_t,
         ctypes.c_uint, _I64)
_declare("opg_tally_vote_conviction_get", c_int, POINTER(ctypes.c_uint), _H, _U64, _PI)
_declare("opg_tally_lock_get", c_int, POINTER(c_int64), _H, _PI)
_declare("opg_tally_lock_count", c_size_t, _H)
_declare("opg_tally_cancel", c_int, _H, _U64, _PI, _I64)
_declare("opg_tally_end_block", c_int, _H, _U64, _I64)
_declare("opg_tally_closed_list", _PTC, _H, POINTER(c_size_t))
_declare("opg_tally_proposal_get", c_int, POINTER(opg_proposal_info), _H, _U64)
_declare("opg_tally_proposal_count", c_size_t, _H)
_declare("opg_tally_proposal_at", c_int, POINTER(opg_proposal_info), _H, c_size_t)
_declare("opg_tally_proposal_change", c_int, POINTER(opg_param_change), _H, _U64, c_size_t)
_declare("opg_tally_deposits", c_int, POINTER(opg_tally_deposit_entry), c_size_t,
         POINTER(c_size_t), _H, _U64)
_declare("opg_tally_vote_get", c_int, POINTER(opg_weighted_vote), POINTER(c_size_t), _H, _U64,
         _PI)
_declare("opg_tally_preview", c_int, POINTER(opg_tally_preview_result), _H, _U64)


def _error_code(exc):
    return exc.code if isinstance(exc, OpgError) else EINVAL  # noqa: F821


class Tally(_Engine):
    """The governance tally (opg_tally) on a registry: proposals, deposits, weighted
    votes, the Cosmos x/gov tally, parameter changes applied all or nothing.

    Tally(registry, **params): params are fields of opg_tally_params (min_deposit,
    voting_period, quorum, threshold, ...).
    """
    _prefix = "opg_tally"

    def __init__(self, registry, **params):
        p = opg_tally_params()
        _C.opg_tally_params_init(byref(p))
        p.update(params)
        out = c_void_p()
        _check(_C.opg_tally_new(byref(out), registry._p, byref(p), None), "opg_tally_new")
        self._attach(registry, out.value)
        self._links = {}      # namespace -> (link, the attached handle's _Ptr, wrapper)
        self._callbacks = {}  # C callbacks kept alive while attached
        self._cb_error = None

    @classmethod
    def load(cls, registry, data):
        """A tally from saved bytes; attachments and the balance function are not
        state: attach them again."""
        self = super().load(registry, data)
        self._links, self._callbacks, self._cb_error = {}, {}, None
        return self

    @staticmethod
    def default_params():
        p = opg_tally_params()
        _C.opg_tally_params_init(byref(p))
        return p.to_py()

    def params(self):
        p = opg_tally_params()
        _C.opg_tally_params_get(byref(p), self._p)
        return p.to_py()

    # ---- host attachments
    def _unlink(self, name):
        old = self._links.pop(name, None)
        if old is not None:
            old[0].undo = None  # detached here; the link must not detach again
            old[1].children.discard(old[0])

    def _attach_handle(self, name, verb, handle):
        fn = self._fn(verb)
        self._call(verb, self._p, handle._p if handle is not None else None)
        self._unlink(name)
        if handle is not None:
            tptr = self._ptr

            def detach(fn=fn, tptr=tptr):
                if tptr.ptr is not None:
                    fn(tptr.ptr, None)
            link = _Link(detach)
            handle._ptr.children.add(link)  # closing the handle detaches it first
            self._links[name] = (link, handle._ptr, handle)

    def attach_pricer(self, pricer):
        """"fees.*" changes go to this Pricer (None detaches)."""
        self._attach_handle("fees", "attach_pricer", pricer)

    def attach_splitter(self, splitter):
        """"distribution.*", "mint.*", "emission.*" go to this Splitter (None detaches)."""
        self._attach_handle("splitter", "attach_splitter", splitter)

    def attach_slasher(self, slasher):
        """"slashing.*", "evidence.*" go to this Slasher (None detaches)."""
        self._attach_handle("slasher", "attach_slasher", slasher)

    def attach_params(self, prefix, host):
        """Keys starting with prefix ("host.") go to host.param_set(key, value) and
        host.param_get(key) -> str (None detaches). set must be atomic and restore
        exactly what get read; an exception refuses the value (OpgError's code, else
        EINVAL)."""
        if host is None:
            self._call("attach_params", self._p, prefix.encode(), None, _SET_FN(), _GET_FN())
            self._callbacks.pop(prefix, None)
            return

        def set_cb(_handle, key, value):
            try:
                host.param_set(key.decode(), value.decode())
                return 0
            except Exception as e:  # a refusal: the proposal fails with this code
                return _error_code(e)

        def get_cb(buf, cap, needed, _handle, key):
            try:
                text = _param_text(host.param_get(key.decode())).encode("utf-8")
            except Exception as e:
                return _error_code(e)
            if needed:
                needed[0] = len(text) + 1
            if cap < len(text) + 1:
                return EBUFS  # noqa: F821
            ctypes.memmove(buf, text + b"\0", len(text) + 1)
            return 0
        cbs = (_SET_FN(set_cb), _GET_FN(get_cb), host)
        self._call("attach_params", self._p, prefix.encode(), None, cbs[0], cbs[1])
        self._callbacks[prefix] = cbs

    def set_balance_fn(self, fn):
        """Held tokens: fn(account: Id) -> int liquid balance, asked at end_block and
        preview when gov.liquid_weight > 0 (None removes it). An exception fails the
        call; it is raised again from there."""
        if fn is None:
            _C.opg_tally_set_balance_fn(self._p, _BALANCE_FN(), None)
            self._callbacks.pop(None, None)
            return

        def cb(_user, account, balance):
            try:
                balance[0] = _u(fn(account[0].to_py()))
                return 0
            except Exception as e:
                self_ref = ref()
                if self_ref is not None:
                    self_ref._cb_error = e
                return _error_code(e)
        ref = weakref.ref(self)
        c = _BALANCE_FN(cb)
        _C.opg_tally_set_balance_fn(self._p, c, None)
        self._callbacks[None] = (c, fn)

    def _with_callbacks(self, call, verb, *args):
        self._cb_error = None
        try:
            call(verb, *args)
        except OpgError as e:
            err, self._cb_error = self._cb_error, None
            if err is not None and not isinstance(err, OpgError):
                raise e from err
            raise

    # ---- proposals
    def submit(self, proposer, now, kind=None, title=None, summary=None, changes=None,
               payload=None, initial_deposit=0, expedited=False):
        """Submits a proposal; returns its id. kind defaults to PARAMS with changes
        ({key: value} or (key, value) pairs), PAYLOAD with payload (bytes), else TEXT."""
        if kind is None:
            kind = (ProposalKind.PARAMS if changes else
                    ProposalKind.PAYLOAD if payload is not None else ProposalKind.TEXT)
        p = opg_proposal_submit.make(proposer=proposer, kind=kind, expedited=expedited,
                                     initial_deposit=initial_deposit, title=title,
                                     summary=summary)
        items = _pairs(changes or (), opg_param_change, ("key", "value"))
        arr = (opg_param_change * max(len(items), 1))(*items)
        if items:
            p.changes = ctypes.cast(arr, POINTER(opg_param_change))
            p.change_count = len(items)
        if payload is not None:
            data = bytes(payload)
            pbuf = ctypes.create_string_buffer(data, max(len(data), 1))
            p.payload = ctypes.cast(pbuf, c_void_p)
            p.payload_len = len(data)
        out = c_uint64()
        self._call("submit", byref(out), self._p, byref(p), now)
        return out.value

    def deposit(self, proposal_id, depositor, amount, now):
        """Adds a deposit; returns whether this started the voting period."""
        started = c_int()
        self._call("deposit", byref(started), self._p, proposal_id, _i(depositor), _u(amount),
                   now)
        return bool(started.value)

    def vote(self, proposal_id, voter, options):
        """A plain vote (VoteOption, int or "yes" / "no_with_veto" ...) or a weighted
        one ({option: weight} or (option, weight) pairs, weights adding up to 1)."""
        if isinstance(options, (int, str)):
            self._call("vote_option", self._p, proposal_id, _i(voter),
                       _enum_in(VoteOption, options))
            return
        items = _pairs(options, opg_weighted_vote, ("option", "weight"))
        arr = (opg_weighted_vote * max(len(items), 1))(*items)
        self._call("vote", self._p, proposal_id, _i(voter), arr, len(items))

    def vote_conviction(self, proposal_id, voter, options, conviction, now):
        """A vote with conviction 0..6 (gov.conviction_voting on): options as for
        vote(), a single option or weighted ones."""
        if isinstance(options, (int, str)):
            options = [(_enum_in(VoteOption, options), 1)]
        items = _pairs(options, opg_weighted_vote, ("option", "weight"))
        arr = (opg_weighted_vote * max(len(items), 1))(*items)
        self._call("vote_conviction", self._p, proposal_id, _i(voter), arr, len(items),
                   conviction, now)

    def lock(self, account):
        """The end of the account's conviction lock, or None."""
        out = c_int64()
        rc = _C.opg_tally_lock_get(byref(out), self._p, _i(account))
        if rc == ENOTFOUND:  # noqa: F821 (from error_codes())
            return None
        if rc:
            raise OpgError(rc, "", "opg_tally_lock_get")
        return out.value

    def lock_count(self):
        return _C.opg_tally_lock_count(self._p)

    def cancel(self, proposal_id, proposer, now):
        """The proposer cancels; returns the ClosedProposal (CANCELLED)."""
        self._call("cancel", self._p, proposal_id, _i(proposer), now)
        return self.closed()[0]

    def end_block(self, height, now):
        """Closes the block; returns what closed (ClosedProposal list)."""
        self._with_callbacks(self._call, "end_block", self._p, height, now)
        return self.closed()

    def closed(self):
        """The proposals closed by the last end_block or cancel."""
        n = c_size_t(0)
        return _array_out(_C.opg_tally_closed_list(self._p, byref(n)), n.value)

    # ---- queries
    def proposal(self, proposal_id):
        out = opg_proposal_info()
        self._query("proposal_get", byref(out), self._p, proposal_id)
        return out.to_py()

    def proposals(self):
        """Every open proposal, in id order."""
        out = opg_proposal_info()
        res = []
        for i in range(_C.opg_tally_proposal_count(self._p)):
            self._query("proposal_at", byref(out), self._p, i)
            res.append(out.to_py())
        return res

    def proposal_changes(self, proposal_id):
        """A parameter-change proposal's changes (ParamChange list)."""
        out = opg_param_change()
        res = []
        for i in range(self.proposal(proposal_id).change_count):
            self._query("proposal_change", byref(out), self._p, proposal_id, i)
            res.append(out.to_py())
        return res

    def deposits(self, proposal_id):
        return _list_out(lambda o, c, n: _C.opg_tally_deposits(o, c, n, self._p, proposal_id),
                         opg_tally_deposit_entry, "opg_tally_deposits")

    def vote_get(self, proposal_id, voter):
        """The voter's vote: WeightedVote list in option order."""
        out = (opg_weighted_vote * 4)()
        n = c_size_t(0)
        self._query("vote_get", out, byref(n), self._p, proposal_id, _i(voter))
        return [out[i].to_py() for i in range(n.value)]

    def preview(self, proposal_id):
        """The tally as if the proposal closed now (TallyPreview), changing nothing."""
        out = opg_tally_preview_result()
        self._with_callbacks(self._query, "preview", byref(out), self._p, proposal_id)
        return out.to_py()
