"""Barcodes read from an uploaded photo, for browsers that cannot scan with the camera live.

Framework-free: bytes in, decoded texts out. The photo comes from a stranger's upload, so its
size is checked twice before any pixel is decoded: the byte count, then the dimensions in the
header (a small PNG can declare 20,000 × 20,000 pixels and inflate to gigabytes).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import zxingcpp
from PIL import Image, ImageOps, UnidentifiedImageError

# Photo formats browsers upload. Naming them keeps Pillow from trying its other openers on
# untrusted bytes (EPS, for one, hands the file to Ghostscript when it is installed). Plain
# "JPEG" covers the MPO files some phones write.
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", "AVIF", "GIF", "BMP", "TIFF")
# The decoder's time grows with the pixel count, and a phone's 12-megapixel photo of a
# barcode still has 3 px or more per bar at 2,000 px. Images up to 2,500 px are left as they
# are rather than resampled by a few per cent.
DECODE_SIDE = 2000
DECODE_SIDE_SLACK = 2500

FORMATS = zxingcpp.BarcodeFormats(
    [
        zxingcpp.BarcodeFormat.EAN13,
        zxingcpp.BarcodeFormat.EAN8,
        zxingcpp.BarcodeFormat.UPCA,
        zxingcpp.BarcodeFormat.UPCE,
        zxingcpp.BarcodeFormat.QRCode,
        zxingcpp.BarcodeFormat.DataMatrix,
        zxingcpp.BarcodeFormat.Code128,
    ]
)


class ImageError(ValueError):
    """An upload that is not a photo we can read; the message says why, for the person."""


@dataclass(frozen=True)
class _Found:
    text: str
    left: float
    top: float
    bottom: float


def barcodes_decode(*, data: bytes, max_bytes: int = 10 * 1024 * 1024, max_pixels: int = 40_000_000) -> list[str]:
    """The texts of the barcodes in the photo ``data``, each once, in reading order.

    Reads EAN-13, EAN-8, UPC-A, UPC-E, QR Code, Data Matrix and Code 128, in any rotation.
    Reading order is by rows top to bottom, left to right within a row, as the photo is shown
    (its EXIF orientation applied). GS1 codes come in their printed form, "(01)0401…".
    Guarantees: no pixel is decoded from an image over ``max_bytes`` bytes or ``max_pixels``
    pixels; every failure to read the image is an ImageError; no barcode gives [].
    """
    if not data:
        raise ImageError("The photo is empty.")
    if len(data) > max_bytes:
        raise ImageError(f"The photo is larger than {max_bytes / (1024 * 1024):.3g} MB; please send a smaller one.")
    image = _image_open(data=data, max_pixels=max_pixels)
    found = [
        _found(barcode)
        for barcode in zxingcpp.read_barcodes(image, formats=FORMATS, try_rotate=True, try_downscale=True)
    ]
    texts: list[str] = []
    for code in _reading_order(found):
        if code.text not in texts:
            texts.append(code.text)
    return texts


def _image_open(*, data: bytes, max_pixels: int) -> Image.Image:
    """The photo upright, in greyscale, at most about DECODE_SIDE pixels on its long side."""
    try:
        # Opening reads the header only; the pixels are decoded by load() below.
        image = Image.open(io.BytesIO(data), formats=PHOTO_FORMATS)
    except Image.DecompressionBombError as error:
        # Pillow's own limit (twice Image.MAX_IMAGE_PIXELS) can trip before ours.
        raise ImageError("The photo has too many pixels; please send a smaller one.") from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise ImageError("This file is not a photo we can read (JPEG, PNG, WebP, AVIF, GIF, BMP or TIFF).") from error
    width, height = image.size
    if width * height > max_pixels:
        raise ImageError(
            f"The photo has {width} × {height} pixels, more than the {max_pixels / 1e6:g} megapixels allowed; "
            "please send a smaller one."
        )
    try:
        if max(width, height) > DECODE_SIDE_SLACK:
            # JPEG only: libjpeg decodes straight to greyscale at 1/2, 1/4 or 1/8 scale, far
            # faster and smaller than decoding in full and shrinking after.
            scale = DECODE_SIDE / max(width, height)
            image.draft("L", (int(width * scale), int(height * scale)))
        image.load()
        upright = _upright(image)
    except (OSError, ValueError, SyntaxError) as error:
        raise ImageError("The photo could not be read; it may be damaged or incomplete.") from error
    if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info:
        # A transparent background turns black in greyscale, hiding dark bars; paper is white.
        upright = Image.alpha_composite(Image.new("RGBA", upright.size, "white"), upright.convert("RGBA"))
    grey = upright.convert("L")
    if max(grey.size) > DECODE_SIDE_SLACK:
        grey.thumbnail((DECODE_SIDE, DECODE_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return grey


def _upright(image: Image.Image) -> Image.Image:
    """``image`` turned as its EXIF orientation says; as it is when the EXIF is unreadable."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 -- Pillow raises many kinds on malformed EXIF; a crooked photo still decodes
        return image


def _found(barcode: zxingcpp.Barcode) -> _Found:
    corners = (
        barcode.position.top_left,
        barcode.position.top_right,
        barcode.position.bottom_right,
        barcode.position.bottom_left,
    )
    return _Found(
        text=barcode.text,
        left=min(point.x for point in corners),
        top=min(point.y for point in corners),
        bottom=max(point.y for point in corners),
    )


def _reading_order(found: list[_Found]) -> list[_Found]:
    """Rows top to bottom, each left to right.

    A code joins the row of the code above it when its vertical middle lies within that code's
    height, so codes side by side on a slightly tilted photo still read left to right.
    """
    rows: list[list[_Found]] = []
    for code in sorted(found, key=lambda code: (code.top, code.left)):
        middle = (code.top + code.bottom) / 2
        if rows and rows[-1][0].top <= middle <= rows[-1][0].bottom:
            rows[-1].append(code)
        else:
            rows.append([code])
    return [code for row in rows for code in sorted(row, key=lambda code: code.left)]
