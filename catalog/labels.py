"""Printable PDFs: shelf labels with a QR code per product, and the store's entrance poster.

Framework-free: plain data in, PDF bytes out. Text is set in the PDF standard font Helvetica,
which every viewer and printer has, so nothing is embedded and a sheet of 24 labels is about
20 kB. Helvetica covers WinAnsi (Latin-1 plus €, „“, – and a few more): German umlauts and ß
print as they are; anything else is folded to its base letter or replaced by "?".

QR codes are encoded by ``qrcode`` (error correction M) and drawn as small greyscale images
scaled up without interpolation, so printers and viewers keep the module edges sharp.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.colors import Color, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

PageSize = tuple[float, float]

REGULAR = "Helvetica"
BOLD = "Helvetica-Bold"
ELLIPSIS = "…"  # in WinAnsi, so one glyph

# One label: 70 × 36 mm, 3 × 8 on A4 with 4.5 mm top and bottom margins, the layout of the
# common A4 label sheets (Zweckform/Avery 3475), so the same PDF prints on plain paper to cut
# or on adhesive sheets. Other page sizes get as many whole labels as fit, centred.
LABEL_WIDTH = 70 * mm
LABEL_HEIGHT = 36 * mm
LABEL_PADDING = 3 * mm
# The QR image includes its 4-module quiet zone. 28 mm keeps the symbol itself at 20.3 mm or
# more even for the smallest QR version (21 modules of 29), comfortably scannable by a phone.
LABEL_QR_SIDE = 28 * mm
LABEL_QR_INSET = 1 * mm
QR_QUIET_MODULES = 4
# A fixed mask pattern: qrcode's search for the best of the 8 masks is 90 % of its time
# (about 5 ms a code, 5 s for 1,000 labels). Decoders read every mask; the search only lowers
# a penalty for blotches and finder-like runs. Over 300 label URLs mask 2 scored on average 6 %
# (at worst 30 %) above the best mask, the closest of the eight. The poster searches.
LABEL_QR_MASK = 2

CUT_LINE = Color(0.72, 0.72, 0.72)
MUTED = Color(0.3, 0.3, 0.3)

POSTER_HEADING = "Scan to shop"
POSTER_INSTRUCTION = "Open your phone camera and point it at the code. No app needed."
POSTER_MARGIN = 18 * mm
POSTER_QR_MAX = 150 * mm


@dataclass(frozen=True)
class LabelItem:
    """What one shelf label shows; the texts are already formatted for the store's locale."""

    name: str
    brand: str
    unit_size: str
    price_text: str  # "2,49 €"
    unit_price_text: str  # "4,98 €/l", or "" where no unit price applies
    url: str  # what the QR code opens
    code_text: str  # the GTIN or code printed small under the QR code
    is_age_restricted: bool


def labels_pdf(
    *,
    items: Sequence[LabelItem],
    store_name: str,
    show_price: bool = True,
    page_size: PageSize = A4,
) -> bytes:
    """Shelf labels for ``items`` in order, in a grid of 70 × 36 mm labels with cut lines.

    Guarantees: every label's text stays inside its label (names wrap, then end in "…"; prices
    shrink to fit); each QR code encodes its item's ``url`` and is at least 20 mm wide; with
    ``show_price=False`` neither the price nor the unit price is printed. No items give one
    blank sheet. The output is deterministic (no timestamps), so equal input gives equal bytes.
    """
    page_width, page_height = page_size
    # Half a point of slack: three 70 mm labels fill A4's 210 mm exactly, and a rounding error
    # in either must not cost a column.
    columns = int((page_width + 0.5) // LABEL_WIDTH)
    rows = int((page_height + 0.5) // LABEL_HEIGHT)
    if columns < 1 or rows < 1:
        raise ValueError("The page is smaller than one label.")
    per_sheet = columns * rows
    left = (page_width - columns * LABEL_WIDTH) / 2
    bottom = (page_height - rows * LABEL_HEIGHT) / 2
    sheets = max(1, math.ceil(len(items) / per_sheet))

    buffer = io.BytesIO()
    canvas = _canvas(buffer, page_size=page_size, title=f"Shelf labels – {store_name}")
    for sheet in range(sheets):
        for slot, item in enumerate(items[sheet * per_sheet : (sheet + 1) * per_sheet]):
            row, column = divmod(slot, columns)
            x = left + column * LABEL_WIDTH
            y = bottom + (rows - 1 - row) * LABEL_HEIGHT
            _label_draw(canvas, item=item, x=x, y=y, show_price=show_price)
        # The sheet's bottom margin tells apart the stacks of a long print run; it is outside
        # every label, so on adhesive sheets it lands on the carrier.
        if bottom >= 3 * mm:
            canvas.setFont(REGULAR, 6)
            canvas.setFillColor(MUTED)
            footer = _fit(f"{_pdf_text(store_name)} · sheet {sheet + 1} of {sheets}", REGULAR, 6, page_width / 2)
            canvas.drawCentredString(page_width / 2, bottom / 2 - 1, footer)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def poster_pdf(*, store_name: str, url: str, address: str = "", page_size: PageSize = A4) -> bytes:
    """A one-page entrance poster: heading, store name, a large QR code for ``url``, how-to, address.

    Guarantees: the QR code encodes ``url`` and is as large as the page allows up to 150 mm
    (over 140 mm on A4 and 130 mm on Letter even with a two-line name and a three-line
    address), its quiet zone clear of text; every text line fits the page width. Deterministic
    output, like ``labels_pdf``.
    """
    page_width, page_height = page_size
    width = page_width - 2 * POSTER_MARGIN
    buffer = io.BytesIO()
    canvas = _canvas(buffer, page_size=page_size, title=f"Poster – {store_name}")

    baseline = page_height - POSTER_MARGIN - 54 * 0.75
    canvas.setFillColor(black)
    canvas.setFont(BOLD, _fit_size(POSTER_HEADING, BOLD, 54, width))
    canvas.drawCentredString(page_width / 2, baseline, POSTER_HEADING)
    canvas.setFont(REGULAR, 28)
    for index, line in enumerate(_wrap(_pdf_text(store_name), REGULAR, 28, width, max_lines=2)):
        baseline -= 34 if index else 16 * mm
        canvas.drawCentredString(page_width / 2, baseline, line)
    ceiling = baseline - 28 * 0.25  # below the store name's descenders

    # The bottom block is laid out upwards from the margin so the QR code gets what is left.
    parts = [_pdf_text(part) for part in address.splitlines() if part.strip()]
    address_lines = [line for part in parts for line in _wrap(part, REGULAR, 14, width, max_lines=3)]
    if len(address_lines) > 3:
        address_lines = _wrap(", ".join(parts), REGULAR, 14, width, max_lines=3)
    instruction_lines = _wrap(_pdf_text(POSTER_INSTRUCTION), REGULAR, 16, width, max_lines=3)
    baseline = POSTER_MARGIN
    canvas.setFillColor(MUTED)
    canvas.setFont(REGULAR, 14)
    for line in reversed(address_lines):
        canvas.drawCentredString(page_width / 2, baseline, line)
        baseline += 18
    if address_lines:
        baseline += 6 * mm
    canvas.setFillColor(black)
    canvas.setFont(REGULAR, 16)
    for line in reversed(instruction_lines):
        canvas.drawCentredString(page_width / 2, baseline, line)
        baseline += 21
    floor = baseline - 21 + 16 * 0.75  # the first instruction line's cap height

    modules = _qr_image(url, border=0, mask_pattern=None)
    count = modules.size[0]
    quiet = QR_QUIET_MODULES / count  # quiet zone per side, as a share of the symbol
    gap = 4 * mm
    # The quiet zone must stay clear of text vertically; sideways it may run into the page
    # margin, which is blank paper too.
    side = min(POSTER_QR_MAX, (ceiling - floor - 2 * gap) / (1 + 2 * quiet), page_width / (1 + 2 * quiet))
    centre_y = (ceiling + floor) / 2
    canvas.drawImage(ImageReader(modules), (page_width - side) / 2, centre_y - side / 2, width=side, height=side)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _canvas(buffer: io.BytesIO, *, page_size: PageSize, title: str) -> Canvas:
    # invariant: no creation date or random document id, so a re-print is byte-identical and
    # the output can be cached or compared in tests.
    canvas = Canvas(buffer, pagesize=page_size, invariant=True, pageCompression=1)
    canvas.setTitle(_pdf_text(title))
    canvas.setCreator("Lingshou")
    return canvas


def _label_draw(canvas: Canvas, *, item: LabelItem, x: float, y: float, show_price: bool) -> None:
    """One label with its bottom-left corner at (x, y)."""
    canvas.setLineWidth(0.25)
    canvas.setStrokeColor(CUT_LINE)
    canvas.rect(x, y, LABEL_WIDTH, LABEL_HEIGHT, stroke=1, fill=0)

    qr_x = x + LABEL_WIDTH - LABEL_QR_INSET - LABEL_QR_SIDE
    qr_y = y + LABEL_HEIGHT - LABEL_QR_INSET - LABEL_QR_SIDE
    image = _qr_image(item.url, border=QR_QUIET_MODULES, mask_pattern=LABEL_QR_MASK)
    canvas.drawImage(ImageReader(image), qr_x, qr_y, width=LABEL_QR_SIDE, height=LABEL_QR_SIDE)
    canvas.setFillColor(black)
    canvas.setFont(REGULAR, 6.5)
    code = _fit(_pdf_text(item.code_text), REGULAR, 6.5, LABEL_QR_SIDE - 2 * mm)
    canvas.drawCentredString(qr_x + LABEL_QR_SIDE / 2, y + 3 * mm, code)

    # The text column ends where the QR image (and so its quiet zone) begins.
    text_x = x + LABEL_PADDING
    text_width = qr_x - 0.5 * mm - text_x
    # Baselines run down from the top padding: the name's cap height, then each line's leading.
    baseline = y + LABEL_HEIGHT - LABEL_PADDING - 9 * 0.75
    # Without prices the lower half is free, so long names get two more lines before the "…".
    name_lines = _wrap(_pdf_text(item.name), BOLD, 9, text_width, max_lines=2 if show_price else 4)
    canvas.setFont(BOLD, 9)
    for index, line in enumerate(name_lines):
        if index:
            baseline -= 10.5
        canvas.drawString(text_x, baseline, line)
    details = " · ".join(part for part in (_pdf_text(item.brand), _pdf_text(item.unit_size)) if part)
    if details:
        canvas.setFillColor(MUTED)
        canvas.setFont(REGULAR, 7)
        canvas.drawString(text_x, baseline - 9, _fit(details, REGULAR, 7, text_width))
        canvas.setFillColor(black)

    badge_width = 0.0
    if item.is_age_restricted:
        badge_width = 9 * mm
        badge_x = text_x + text_width - badge_width
        canvas.setFillColor(black)
        canvas.roundRect(badge_x, y + 2.5 * mm, badge_width, 4.5 * mm, 1 * mm, stroke=0, fill=1)
        canvas.setFillColor(white)
        canvas.setFont(BOLD, 8)
        canvas.drawCentredString(badge_x + badge_width / 2, y + 3.6 * mm, "18+")
        canvas.setFillColor(black)

    if show_price:
        price = _pdf_text(item.price_text)
        size = _fit_size(price, BOLD, 22, text_width)
        canvas.setFont(BOLD, size)
        canvas.drawString(text_x, y + 10 * mm, _fit(price, BOLD, size, text_width))
        if item.unit_price_text:
            canvas.setFillColor(MUTED)
            canvas.setFont(REGULAR, 7)
            available = text_width - (badge_width + 1.5 * mm if badge_width else 0)
            canvas.drawString(text_x, y + 3.6 * mm, _fit(_pdf_text(item.unit_price_text), REGULAR, 7, available))
            canvas.setFillColor(black)


def _qr_image(url: str, *, border: int, mask_pattern: int | None) -> Image.Image:
    """The QR symbol for ``url`` as a greyscale image of one pixel per module."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=1, border=border, mask_pattern=mask_pattern)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    pixels = bytes(0 if dark else 255 for row in matrix for dark in row)
    return Image.frombytes("L", (len(matrix), len(matrix)), pixels)


def _pdf_text(text: str) -> str:
    """``text`` on one line in characters Helvetica can print (WinAnsi), never raising."""
    # NFC first: names typed on a Mac arrive as "u" + combining diaeresis, which WinAnsi lacks
    # but "ü" it has. Line breaks and tabs become single spaces.
    text = " ".join(unicodedata.normalize("NFC", text).split())
    if text.isprintable() and _is_winansi(text):
        return text
    out = []
    for char in text:
        if char == " " or (char.isprintable() and _is_winansi(char)):
            out.append(char)
        elif unicodedata.category(char)[0] in "CM":
            # Controls, soft hyphens, zero-width joiners, emoji variation selectors and stray
            # combining marks print as nothing.
            continue
        else:
            # "ő" -> "o", "ﬁ" -> "fi": keep the base letters where there are any.
            folded = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            out.append(folded if folded and folded.isprintable() and _is_winansi(folded) else "?")
    return "".join(out)


def _is_winansi(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _fit_size(text: str, font: str, size: float, width: float) -> float:
    """``size``, or the smaller size at which ``text`` fits ``width`` (not below 6 pt)."""
    natural = stringWidth(text, font, size)
    if natural <= width:
        return size
    return max(6.0, math.floor(size * width / natural * 2) / 2)


def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text``, or its longest start that fits ``width`` with "…" appended."""
    if stringWidth(text, font, size) <= width:
        return text
    limit = width - stringWidth(ELLIPSIS, font, size)
    end = len(text)
    while end > 0 and stringWidth(text[:end], font, size) > limit:
        end -= 1
    return text[:end].rstrip() + ELLIPSIS


def _wrap(text: str, font: str, size: float, width: float, *, max_lines: int) -> list[str]:
    """``text`` broken into at most ``max_lines`` lines of ``width``; the last ends in "…" if cut.

    Words longer than a line are split between characters rather than overflowing.
    """
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if stringWidth(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while stringWidth(word, font, size) > width and len(word) > 1:
            end = len(word) - 1
            while end > 1 and stringWidth(word[:end], font, size) > width:
                end -= 1
            lines.append(word[:end])
            word = word[end:]
        current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :])
        lines = [*lines[: max_lines - 1], _fit(rest, font, size, width)]
    return lines
