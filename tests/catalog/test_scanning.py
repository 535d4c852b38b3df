"""Barcodes from uploaded photos, and uploads that are not photos.

Every image is made here: an EAN-13 drawn bar by bar from the GS1 tables (so the decoder is
checked against an independent encoder), QR codes from ``qrcode``, set on a noisy background
and saved as a phone would save them.
"""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
import qrcode
from PIL import Image, ImageDraw, ImageFile, ImageFilter

from catalog.scanning import ImageError, barcodes_decode

GTIN = "4006381333931"

# EAN-13 digit patterns (1 = bar): L and G on the left half, R on the right. R is L inverted, G
# is R reversed; the first digit is carried by which left digits use G.
L_CODES = ("0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011", "0110111", "0001011")
R_CODES = tuple(code.translate(str.maketrans("01", "10")) for code in L_CODES)
G_CODES = tuple(code[::-1] for code in R_CODES)
PARITY = ("LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL")


def _ean13(code: str, *, module: int) -> Image.Image:
    """An EAN-13 symbol with its quiet zones, ``module`` pixels per bar width."""
    left = "".join(
        (L_CODES if kind == "L" else G_CODES)[int(digit)]
        for kind, digit in zip(PARITY[int(code[0])], code[1:7], strict=True)
    )
    right = "".join(R_CODES[int(digit)] for digit in code[7:])
    bars = f"101{left}01010{right}101"
    quiet = 11
    image = Image.new("L", ((len(bars) + 2 * quiet) * module, 70 * module), 255)
    draw = ImageDraw.Draw(image)
    for index, bar in enumerate(bars):
        if bar == "1":
            x = (quiet + index) * module
            draw.rectangle((x, 0, x + module - 1, image.height - 1), fill=0)
    return image


def _qr(text: str, *, box: int = 8) -> Image.Image:
    code = qrcode.QRCode(box_size=box, border=4)
    code.add_data(text)
    return code.make_image().get_image().convert("L")


def _background(size: tuple[int, int], *, seed: int = 7) -> Image.Image:
    """Grey noise, slightly blurred: a shelf in poor light rather than a clean scan."""
    noise = random.Random(seed).randbytes(size[0] * size[1])
    image = Image.frombytes("L", size, noise).point(lambda value: 70 + value // 2)
    return image.filter(ImageFilter.GaussianBlur(1.5)).convert("RGB")


def _encoded(image: Image.Image, kind: str = "JPEG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


def _bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width`` × ``height`` white pixels, compressed to a few kilobytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" + b"\xff" * ((width + 7) // 8)  # filter byte "none", then the row's bits
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def test_an_ean13_in_a_large_tilted_jpeg_photo_reads_as_its_gtin() -> None:
    photo = _background((4000, 3000))
    symbol = _ean13(GTIN, module=6).rotate(6, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    photo.paste(symbol, (1500, 1200))

    assert barcodes_decode(data=_encoded(photo, quality=85)) == [GTIN]


def test_a_qr_code_reads_as_its_url() -> None:
    photo = _background((1200, 900))
    photo.paste(_qr("https://shop.example/s/AB12CD/p/04006381333931"), (300, 200))

    assert barcodes_decode(data=_encoded(photo, "PNG")) == ["https://shop.example/s/AB12CD/p/04006381333931"]


def test_a_qr_code_on_a_transparent_background_reads() -> None:
    # Black modules on transparency: taken as black on white, as on paper, not black on black.
    modules = _qr("https://shop.example/s/AB12CD")
    image = Image.new("RGBA", modules.size, (0, 0, 0, 0))
    image.putalpha(modules.point(lambda value: 255 - value))

    assert barcodes_decode(data=_encoded(image, "PNG")) == ["https://shop.example/s/AB12CD"]


def test_codes_come_in_reading_order_each_once() -> None:
    photo = _background((1400, 1000))
    # Two rows at uneven heights, as on a tilted photo: within a row, left to right still wins
    # over top to bottom. "two" appears twice.
    for text, position in [
        ("one", (60, 110)),
        ("two", (520, 60)),
        ("three", (980, 90)),
        ("four", (60, 600)),
        ("two", (520, 560)),
    ]:
        photo.paste(_qr(text, box=10), position)

    assert barcodes_decode(data=_encoded(photo, "PNG")) == ["one", "two", "three", "four"]


def test_reading_order_follows_the_photos_exif_orientation() -> None:
    upright = _background((1000, 500))
    upright.paste(_qr("left"), (100, 100))
    upright.paste(_qr("right"), (600, 100))
    # As a phone held sideways stores it: pixels turned, EXIF orientation 6 to turn them back.
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6

    assert barcodes_decode(data=_encoded(stored, quality=90, exif=exif.tobytes())) == ["left", "right"]
    assert barcodes_decode(data=_encoded(stored, quality=90)) == ["right", "left"]


@pytest.mark.parametrize("kind", ["JPEG", "PNG"])
def test_a_photo_without_barcodes_gives_an_empty_list(kind: str) -> None:
    assert barcodes_decode(data=_encoded(_background((800, 600)), kind)) == []
    assert barcodes_decode(data=_encoded(Image.new("RGB", (800, 600), "white"), kind)) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The photo is empty."),
        (b"%PDF-1.7\n" + bytes(range(256)) * 8, "This file is not a photo we can read"),
        (_encoded(Image.new("RGB", (800, 600), "gray"))[:2000], "damaged or incomplete"),
    ],
    ids=["empty", "not-an-image", "truncated"],
)
def test_unreadable_uploads_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        barcodes_decode(data=data)


def test_an_upload_over_the_byte_limit_is_refused() -> None:
    data = _encoded(_background((1600, 1200)), quality=95)
    assert len(data) > 256 * 1024

    with pytest.raises(ImageError, match=r"larger than 0\.25 MB"):
        barcodes_decode(data=data, max_bytes=256 * 1024)


@pytest.mark.parametrize(
    ("width", "height", "message"),
    [
        (20_000, 20_000, "The photo has too many pixels"),  # Pillow's own limit trips first
        (8_000, 8_000, "8000 × 8000 pixels, more than the 40 megapixels allowed"),
    ],
)
def test_a_decompression_bomb_is_refused_without_decoding_a_pixel(
    width: int, height: int, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 400 and 64 megapixels in a few kilobytes of PNG.
    bomb = _bomb_png(width, height)
    assert len(bomb) < 100 * 1024
    loads: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def spy(image: ImageFile.ImageFile) -> object:
        loads.append(image.size)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)

    with pytest.raises(ImageError, match=message):
        barcodes_decode(data=bomb)
    assert loads == []
