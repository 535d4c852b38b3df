"""Product fronts for the demo catalog: ``product_image`` draws one that a shelf simulator can paste into a scene; framework-free."""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from demo.data.catalog import RGB, ProductSpec

_WARNINGS = {
    "tobacco/cigarettes": "Rauchen ist tödlich.",
    "tobacco/rolling-tobacco": "Rauchen ist tödlich.",
    "tobacco/e-cigarettes": "Dieses Produkt enthält Nikotin: einen Stoff, der sehr stark abhängig macht.",
}
# x0, y0, x1, y1 of the label as fractions of the canvas, per package.
_LABELS: dict[str, tuple[float, float, float, float]] = {
    "can": (0.1, 0.3, 0.9, 0.72),
    "bottle": (0.12, 0.46, 0.88, 0.86),
    "carton": (0.08, 0.38, 0.92, 0.8),
    "box": (0.05, 0.3, 0.95, 0.75),
    "bag": (0.06, 0.28, 0.94, 0.74),
    "cup": (0.17, 0.32, 0.83, 0.76),
    "pack": (0.08, 0.46, 0.92, 0.82),
    "pouch": (0.06, 0.44, 0.94, 0.86),
    "blister": (0.06, 0.14, 0.94, 0.44),
}
# fmt: off
_ACCENTS: tuple[RGB, ...] = (
    (212, 175, 55), (250, 250, 245), (25, 25, 30), (200, 30, 40), (20, 90, 170),
    (30, 140, 70), (240, 140, 20), (120, 50, 140), (0, 160, 170), (235, 90, 150),
)
# fmt: on
_SILVER: RGB = (196, 200, 206)


def _key(gtin: str) -> int:
    return int.from_bytes(hashlib.blake2b(gtin.encode(), digest_size=8).digest(), "big")


@functools.lru_cache(maxsize=1)
def _font_folder() -> Path | None:
    """Bitstream Vera, as reportlab (a project dependency) bundles it.

    Pillow's own default font has glyphs for ASCII only, and German names need ä, ö, ü, ß and ×.
    """
    try:
        folder = Path(str(resources.files("reportlab") / "fonts"))
    except ModuleNotFoundError:
        return None
    return folder if (folder / "Vera.ttf").is_file() and (folder / "VeraBd.ttf").is_file() else None


@functools.lru_cache(maxsize=128)
def _font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    folder = _font_folder()
    if folder is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(str(folder / ("VeraBd.ttf" if bold else "Vera.ttf")), size)


_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "×": "x"})


def _ink(background: RGB) -> RGB:
    """Black or white text, whichever reads better on ``background``."""
    red, green, blue = background
    return (20, 20, 24) if 0.299 * red + 0.587 * green + 0.114 * blue > 140 else (250, 250, 250)


def _shade(color: RGB, factor: float) -> RGB:
    return (
        min(255, round(color[0] * factor)),
        min(255, round(color[1] * factor)),
        min(255, round(color[2] * factor)),
    )


def product_image(spec: ProductSpec, *, size: tuple[int, int] = (240, 320)) -> Image.Image:
    """The product's front, RGBA (transparent around the package); the same pixels every time."""
    width, height = size
    key = _key(spec.gtin)
    primary, secondary = spec.colors
    accent = _ACCENTS[(key >> 40) % len(_ACCENTS)]
    canvas = Image.new("RGB", size, primary)
    draw = ImageDraw.Draw(canvas)
    _pattern(draw, size, key, secondary)
    mask = Image.new("L", size, 0)
    _silhouette(ImageDraw.Draw(mask), spec.package, width, height)
    _package_details(draw, spec, width, height, primary, secondary)
    _label(draw, spec, width, height, key, primary, secondary, accent)
    pixels = np.asarray(canvas, dtype=np.float32) * _lighting(spec.package, width, height)[:, :, None]
    shaded = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    shaded.putalpha(mask)
    return shaded


def _pattern(draw: ImageDraw.ImageDraw, size: tuple[int, int], key: int, color: RGB) -> None:
    """One of ten pattern families, its spacing and phase taken from the GTIN's hash."""
    width, height = size
    kind = key % 10
    spacing = max(6, round(width * (0.08 + ((key >> 8) % 8) * 0.025)))
    thickness = max(2, round(spacing * (0.25 + ((key >> 12) % 4) * 0.1)))
    phase = (key >> 16) % spacing
    if kind == 0:  # diagonal stripes, either direction
        sign = 1 if (key >> 20) & 1 else -1
        for x in range(-height - spacing, width + height, spacing):
            draw.line([(x + phase, 0), (x + phase + sign * height, height)], fill=color, width=thickness)
    elif kind == 1:  # horizontal stripes
        for y in range(phase - spacing, height, spacing):
            draw.rectangle([0, y, width, y + thickness], fill=color)
    elif kind == 2:  # dots in offset rows
        radius = max(2, thickness // 2 + 1)
        for row, y in enumerate(range(phase - spacing, height + spacing, spacing)):
            for x in range((row % 2) * spacing // 2 - spacing, width + spacing, spacing):
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=color)
    elif kind == 3:  # chevrons
        for y in range(phase - 2 * spacing, height + spacing, spacing):
            points = [(x, y + (spacing // 2 if (x // spacing) % 2 else 0)) for x in range(0, width + spacing, spacing)]
            draw.line(points, fill=color, width=thickness)
    elif kind == 4:  # waves
        amplitude = spacing / 3
        for y in range(phase - spacing, height + spacing, spacing):
            wave = [(x, y + amplitude * math.sin(x / spacing * 2 * math.pi)) for x in range(0, width + 4, 4)]
            draw.line(wave, fill=color, width=thickness)
    elif kind == 5:  # checks
        for row, y in enumerate(range(0, height, spacing)):
            for column, x in enumerate(range(0, width, spacing)):
                if (row + column) % 2:
                    draw.rectangle([x, y, x + spacing - 1, y + spacing - 1], fill=color)
    elif kind == 6:  # rings around an off-centre point
        cx, cy = width * (0.2 + ((key >> 24) % 7) / 10), height * 0.15
        for radius in range(thickness, width + height, spacing):
            draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], outline=color, width=thickness)
    elif kind == 7:  # two-tone diagonal split
        split = height * (0.35 + ((key >> 24) % 4) / 10)
        draw.polygon([(0, split + width * 0.3), (width, split - width * 0.3), (width, height), (0, height)], fill=color)
    elif kind == 8:  # sunburst rays
        cx, cy, reach = width / 2, height * 0.2, width + height
        rays = 8 + (key >> 24) % 10
        for ray in range(rays):
            start = 2 * math.pi * ray / rays
            end = start + math.pi / rays
            draw.polygon(
                [
                    (cx, cy),
                    (cx + reach * math.cos(start), cy + reach * math.sin(start)),
                    (cx + reach * math.cos(end), cy + reach * math.sin(end)),
                ],
                fill=color,
            )
    else:  # a big sun disc and a bottom band
        disc = width * 0.45
        cx = width * (0.3 + ((key >> 24) % 5) / 10)
        draw.ellipse([cx - disc, height * 0.05 - disc / 2, cx + disc, height * 0.05 + disc * 1.5], fill=color)
        draw.rectangle([0, height * 0.84, width, height], fill=color)


def _silhouette(draw: ImageDraw.ImageDraw, package: str, width: int, height: int) -> None:
    """The package outline, filled with 255 where the package is."""
    w, h = width, height
    if package == "can":
        draw.rounded_rectangle([0.1 * w, 0.03 * h, 0.9 * w, 0.97 * h], radius=0.06 * w, fill=255)
    elif package == "bottle":
        draw.rectangle([0.38 * w, 0.0, 0.62 * w, 0.07 * h], fill=255)
        draw.rectangle([0.39 * w, 0.06 * h, 0.61 * w, 0.22 * h], fill=255)
        draw.polygon([(0.39 * w, 0.21 * h), (0.61 * w, 0.21 * h), (0.88 * w, 0.36 * h), (0.12 * w, 0.36 * h)], fill=255)
        draw.rounded_rectangle([0.12 * w, 0.32 * h, 0.88 * w, 0.99 * h], radius=0.08 * w, fill=255)
    elif package == "carton":
        draw.rectangle([0.2 * w, 0.02 * h, 0.8 * w, 0.07 * h], fill=255)
        draw.polygon([(0.2 * w, 0.06 * h), (0.8 * w, 0.06 * h), (0.92 * w, 0.16 * h), (0.08 * w, 0.16 * h)], fill=255)
        draw.rectangle([0.08 * w, 0.16 * h, 0.92 * w, 0.99 * h], fill=255)
    elif package == "bag":
        teeth = 12
        top = [(0.06 * w + i * 0.88 * w / teeth, (0.03 if i % 2 else 0.055) * h) for i in range(teeth + 1)]
        bottom = [(x, h - y) for x, y in reversed(top)]
        draw.polygon(top + bottom, fill=255)
    elif package == "cup":
        draw.polygon([(0.06 * w, 0.1 * h), (0.94 * w, 0.1 * h), (0.84 * w, 0.99 * h), (0.16 * w, 0.99 * h)], fill=255)
        draw.rectangle([0.03 * w, 0.04 * h, 0.97 * w, 0.11 * h], fill=255)
    elif package == "pouch":
        draw.rounded_rectangle([0.06 * w, 0.1 * h, 0.94 * w, 0.96 * h], radius=0.1 * w, fill=255)
    elif package == "blister":
        draw.rounded_rectangle([0.06 * w, 0.02 * h, 0.94 * w, 0.98 * h], radius=0.05 * w, fill=255)
        draw.ellipse([0.42 * w, 0.045 * h, 0.58 * w, 0.095 * h], fill=0)  # the hang hole
    elif package == "pack":
        draw.rounded_rectangle([0.08 * w, 0.04 * h, 0.92 * w, 0.98 * h], radius=0.03 * w, fill=255)
    else:  # box
        draw.rectangle([0.05 * w, 0.04 * h, 0.95 * w, 0.98 * h], fill=255)


def _package_details(
    draw: ImageDraw.ImageDraw, spec: ProductSpec, width: int, height: int, primary: RGB, secondary: RGB
) -> None:
    """What makes the shape read as a can, bottle or pack: rims, cap, seals, warnings."""
    w, h = width, height
    package = spec.package
    if package == "can":
        draw.rectangle([0, 0, w, 0.085 * h], fill=_SILVER)
        draw.rectangle([0, 0.93 * h, w, h], fill=_SILVER)
        draw.line([(0, 0.085 * h), (w, 0.085 * h)], fill=_shade(_SILVER, 0.7), width=2)
    elif package == "bottle":
        draw.rectangle([0, 0, w, 0.07 * h], fill=secondary)  # cap
        draw.rectangle([0, 0.07 * h, w, 0.3 * h], fill=_shade(primary, 0.55))  # neck and shoulder
    elif package == "carton":
        draw.rectangle([0, 0, w, 0.16 * h], fill=_shade(primary, 0.8))
        draw.line([(0, 0.16 * h), (w, 0.16 * h)], fill=_shade(primary, 0.6), width=2)
    elif package == "bag":
        for y0, y1 in ((0.0, 0.1), (0.9, 1.0)):
            draw.rectangle([0, y0 * h, w, y1 * h], fill=_shade(secondary, 0.85))
            for x in range(0, w, 4):
                draw.line([(x, y0 * h), (x, y1 * h)], fill=_shade(secondary, 0.7), width=1)
    elif package == "cup":
        draw.rectangle([0, 0, w, 0.11 * h], fill=_SILVER)
    elif package == "pouch":
        draw.chord([0.06 * w, -0.1 * h, 0.94 * w, 0.36 * h], 0, 180, fill=_shade(primary, 0.75))
    elif package == "blister":
        # The clear bubble with what is inside: up to four upright items (batteries, a lighter).
        bubble = [0.18 * w, 0.5 * h, 0.82 * w, 0.9 * h]
        draw.rounded_rectangle(bubble, radius=0.04 * w, fill=_shade(secondary, 1.25))
        items = max(1, min(4, int(spec.content_amount or 1)))
        slot = 0.56 * w / items
        for i in range(items):
            left = 0.21 * w + i * slot + slot * 0.15
            draw.rounded_rectangle([left, 0.54 * h, left + slot * 0.7, 0.86 * h], radius=slot * 0.15, fill=primary)
            draw.rectangle([left, 0.54 * h, left + slot * 0.7, 0.6 * h], fill=_SILVER)
        draw.rounded_rectangle(bubble, radius=0.04 * w, outline=(255, 255, 255), width=2)
    elif package == "pack":
        draw.line([(0, 0.44 * h), (w, 0.44 * h)], fill=_shade(primary, 0.5), width=2)  # the flip-top lid
    warning = _WARNINGS.get(spec.category_path)
    if warning:
        # EU health warning: black frame, white field, black text, at the top of the front.
        box = [0.1 * w, 0.06 * h if package != "pouch" else 0.12 * h, 0.9 * w, 0.4 * h]
        draw.rectangle(box, fill=(255, 255, 255), outline=(0, 0, 0), width=max(2, w // 60))
        _text_block(draw, warning, box, max_size=max(8, h // 18), fill=(0, 0, 0), lines=4)


def _label(
    draw: ImageDraw.ImageDraw,
    spec: ProductSpec,
    width: int,
    height: int,
    key: int,
    primary: RGB,
    secondary: RGB,
    accent: RGB,
) -> None:
    """The band with the brand in big letters, the product name and size smaller."""
    fx0, fy0, fx1, fy1 = _LABELS[spec.package]
    if spec.category_path in _WARNINGS:  # the health warning takes the top of the front
        fy0, fy1 = max(fy0, 0.44), max(fy1, 0.84)
    x0, y0, x1, y1 = fx0 * width, fy0 * height, fx1 * width, fy1 * height
    # A white label on one front in four: white makes fronts alike, so most take their colours.
    style = (key >> 32) % 4
    fill = (248, 246, 238) if style == 0 else _shade(primary, 0.8) if style == 1 else secondary
    draw.rectangle([x0, y0, x1, y1], fill=fill)
    band = max(2, round(height * 0.012))
    draw.rectangle([x0, y0, x1, y0 + band], fill=accent)
    draw.rectangle([x0, y1 - band, x1, y1], fill=accent)
    ink = _ink(fill)
    label_height = y1 - y0
    # An emblem (circle, diamond, star, shield) in the accent colour above the brand.
    cx, cy, radius = (x0 + x1) / 2, y0 + label_height * 0.17, label_height * 0.11
    emblem = (key >> 36) % 4
    if emblem == 0:
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=accent, outline=ink)
    elif emblem == 1:
        draw.polygon(
            [(cx, cy - radius), (cx + radius, cy), (cx, cy + radius), (cx - radius, cy)], fill=accent, outline=ink
        )
    elif emblem == 2:
        points = [
            (cx + (radius if i % 2 == 0 else radius * 0.45) * math.sin(i * math.pi / 5),
             cy - (radius if i % 2 == 0 else radius * 0.45) * math.cos(i * math.pi / 5))
            for i in range(10)
        ]  # fmt: skip
        draw.polygon(points, fill=accent, outline=ink)
    else:
        draw.polygon(
            [(cx - radius, cy - radius), (cx + radius, cy - radius), (cx + radius, cy + radius * 0.3), (cx, cy + radius),
             (cx - radius, cy + radius * 0.3)],
            fill=accent,
            outline=ink,
        )  # fmt: skip
    brand_box = [x0 + 4, y0 + label_height * 0.3, x1 - 4, y0 + label_height * 0.58]
    _text_block(draw, spec.brand, brand_box, max_size=round(height * 0.11), fill=ink, lines=1, bold=True)
    product = spec.name.removeprefix(spec.brand).strip() or spec.name
    name_box = [x0 + 4, y0 + label_height * 0.58, x1 - 4, y0 + label_height * 0.86]
    _text_block(draw, product, name_box, max_size=max(8, round(height * 0.05)), fill=ink, lines=2)
    size_box = [x0 + 4, y0 + label_height * 0.86, x1 - 4, y1 - band]
    _text_block(draw, spec.unit_size, size_box, max_size=max(7, round(height * 0.04)), fill=ink, lines=1)


def _text_block(
    draw: ImageDraw.ImageDraw,
    text: str,
    box: Sequence[float],
    *,
    max_size: int,
    fill: RGB,
    lines: int,
    bold: bool = False,
) -> None:
    """``text`` centred in ``box``, wrapped to at most ``lines`` lines, as large as fits."""
    x0, y0, x1, y1 = box
    if _font_folder() is None:
        text = text.translate(_ASCII)
    font_size, wrapped = 6, [text]
    for size in range(max(max_size, 6), 5, -1):
        fitted = _wrap(draw, text, _font(size, bold=bold), x1 - x0, lines)
        if fitted is not None and len(fitted) * size * 1.15 <= (y1 - y0):
            font_size, wrapped = size, fitted
            break
    font = _font(font_size, bold=bold)
    line_height = font_size * 1.15
    top = (y0 + y1) / 2 - line_height * len(wrapped) / 2
    for i, line in enumerate(wrapped):
        draw.text(
            ((x0 + x1) / 2, top + line_height * (i + 0.5)),
            line,
            font=font,
            fill=fill,
            anchor="mm",
        )


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float, lines: int
) -> list[str] | None:
    """Greedy word wrap into ``lines`` lines of at most ``width``; None when it does not fit."""
    result: list[str] = []
    words: list[str] = []
    for word in text.split():
        # Keep "1.5 %" and "4 × 125 g" together rather than start a line with a sign.
        if words and (word in ("%", "×") or words[-1].endswith("×")):
            words[-1] = f"{words[-1]} {word}"
        else:
            words.append(word)
    for word in words:
        candidate = f"{result[-1]} {word}" if result else word
        if result and draw.textlength(candidate, font=font) <= width:
            result[-1] = candidate
        elif draw.textlength(word, font=font) <= width:
            result.append(word)
        else:
            return None
    return result if len(result) <= lines else None


@functools.lru_cache(maxsize=64)
def _lighting(package: str, width: int, height: int) -> np.ndarray:
    """Per-pixel brightness: round packages get a cylinder's shading and a highlight."""
    across = (np.arange(width, dtype=np.float32) + 0.5) / width
    down = (np.arange(height, dtype=np.float32) + 0.5) / height
    if package in ("can", "bottle", "cup"):
        row = 0.7 + 0.3 * np.sin(np.pi * across) ** 0.6 + 0.25 * np.exp(-(((across - 0.3) / 0.06) ** 2))
        light = np.tile(row, (height, 1))
    elif package in ("bag", "pouch"):
        light = 0.82 + 0.22 * np.outer(np.sin(np.pi * down) ** 0.5, np.sin(np.pi * across) ** 0.5)
    else:
        light = np.tile(1.02 - 0.08 * across, (height, 1))
    return light.astype(np.float32)
