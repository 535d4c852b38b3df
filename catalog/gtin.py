"""GTIN arithmetic, framework-free: check digits, normalisation, variable-measure codes.

Every GTIN (8, 12, 13 or 14 digits) is stored as 14 digits, left-padded with zeros, so that a
code scanned as UPC-A, EAN-13 or printed on a case as GTIN-14 finds the same product.
"""

from __future__ import annotations

from dataclasses import dataclass

GTIN_LENGTHS = (8, 12, 13, 14)

# GS1 prefixes for restricted circulation inside a store: 02 and 20-29 in a GTIN-13.
VARIABLE_PREFIXES = frozenset({"02", *(f"2{d}" for d in range(10))})
# What the five value digits mean per prefix. GS1 leaves this to each country; this is the
# common layout (price in minor units, or weight in grams). A wholesaler can differ later.
VARIABLE_KINDS: dict[str, str] = {
    "02": "price",
    "20": "price",
    "21": "price",
    "22": "price",
    "23": "weight",
    "24": "weight",
    "25": "weight",
    "26": "price",
    "27": "price",
    "28": "weight",
    "29": "weight",
}


class GtinError(ValueError):
    """A code that is not a valid GTIN; the message says why, for the person who typed it."""


def check_digit(body: str) -> str:
    """The GS1 mod-10 check digit of ``body`` (all digits but the last)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def is_valid(code: str) -> bool:
    return code.isdigit() and len(code) in GTIN_LENGTHS and check_digit(code[:-1]) == code[-1]


def normalize(code: str) -> str:
    """The 14-digit form of a GTIN-8/12/13/14; raises GtinError with the reason."""
    code = code.strip().replace(" ", "").replace("-", "")
    if not code.isdigit():
        raise GtinError("A barcode number has digits only.")
    if len(code) not in GTIN_LENGTHS:
        raise GtinError(f"A GTIN has 8, 12, 13 or 14 digits, not {len(code)}.")
    if check_digit(code[:-1]) != code[-1]:
        raise GtinError(f"Wrong check digit: a GTIN starting {code[:-1]} ends in {check_digit(code[:-1])}.")
    return code.zfill(14)


def display(gtin14: str) -> str:
    """The shortest usual form: EAN-8 or EAN-13 where the leading digits are zeros."""
    if gtin14.startswith("000000"):
        return gtin14[6:]
    return gtin14[1:] if gtin14.startswith("0") else gtin14


def make(body: str) -> str:
    """A valid GTIN from its digits without the check digit (used by generators and tests)."""
    return body + check_digit(body)


@dataclass(frozen=True)
class VariableMeasure:
    """A scanned in-store code that carries a price or a weight."""

    key: str  # prefix + item reference (7 digits): what the product's barcode registers
    kind: str  # "price" (minor units) or "weight" (grams)
    value: int


def parse_variable(code: str) -> VariableMeasure | None:
    """Read a GTIN-13 with prefix 02 or 20-29 as item key and value; None for any other code."""
    code = code.strip()
    if len(code) == 14 and code.startswith("0"):
        code = code[1:]
    if len(code) != 13 or not is_valid(code) or code[:2] not in VARIABLE_PREFIXES:
        return None
    return VariableMeasure(key=code[:7], kind=VARIABLE_KINDS[code[:2]], value=int(code[7:12]))


def variable_code(key: str, value: int) -> str:
    """The GTIN-13 a scale prints for item ``key`` (7 digits) and ``value``."""
    if len(key) != 7 or not key.isdigit() or key[:2] not in VARIABLE_PREFIXES:
        raise GtinError("A variable-measure key is 7 digits starting 02 or 20-29.")
    if not 0 <= value <= 99999:
        raise GtinError("A variable-measure value has at most 5 digits.")
    return make(f"{key}{value:05d}")


@dataclass(frozen=True)
class ReturnSlip:
    """A deposit return slip from a reverse-vending machine: the deposit it pays back, in minor units."""

    code: str
    value: int


def parse_return_slip(code: str, *, prefix: str) -> ReturnSlip | None:
    """Read an EAN-13 starting with ``prefix`` as a return slip (value in digits 8-12, as on scale labels).

    None for a code that is no slip (another prefix or length, or no prefix set); GtinError for one that
    reads like a slip but has a wrong check digit (a slip typed by hand), so it is never taken for a product.
    """
    code = code.strip()
    if len(code) == 14 and code.startswith("0"):
        code = code[1:]
    if not prefix or len(code) != 13 or not code.isdigit() or not code.startswith(prefix):
        return None
    if check_digit(code[:-1]) != code[-1]:
        raise GtinError("This return slip's barcode does not read right (wrong check digit); type it again.")
    return ReturnSlip(code=code, value=int(code[7:12]))
