"""Shelf labels and the entrance poster, read back as a phone and a PDF viewer would read them.

Each page is rasterised with pdfium at 200 dpi and decoded with zxing-cpp; text comes from
pdfium's text layer. Nothing here needs the database.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import pypdfium2 as pdfium
import pytest
import zxingcpp
from reportlab.lib.pagesizes import A4, LETTER

from catalog.labels import LABEL_HEIGHT, LABEL_WIDTH, LabelItem, labels_pdf, poster_pdf

DPI = 200
MM = 72 / 25.4  # PDF points per millimetre

LONG_NAME = (
    "Bio Hafer-Drink Barista Edition ungesüßt mit extra viel Calcium und Vitamin D2 für Kaffee und Müsli Großpackung"
)


def _items() -> list[LabelItem]:
    """30 labels: two sheets, the second partly filled, with the awkward names among them."""
    names = [
        "Müller Weißbier Naturtrüb",
        LONG_NAME,
        "Ramen 🍜 Würzig",
        "Jägermeister",
        "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichen",
        "Gouda jung",
    ]
    return [
        LabelItem(
            name=name,
            brand="Müller" if index % 2 else "",
            unit_size="0,5 l",
            price_text=f"{index + 1},{index * 7 % 100:02d} €",
            unit_price_text=f"{2 * index + 2},{index * 14 % 100:02d} €/l" if index % 5 else "",
            url=f"https://shop.example/s/AB12CD/p/{4012345678901 + index:014d}",
            code_text=f"{4012345678901 + index:014d}",
            is_age_restricted=name == "Jägermeister",
        )
        for index, name in zip(range(30), itertools.cycle(names), strict=False)
    ]


@dataclass(frozen=True)
class Found:
    text: str
    left: float  # PDF points from the page's left edge
    bottom: float  # PDF points from the page's bottom edge
    right: float
    top: float


def _qr_codes(pdf: bytes, *, dpi: int = DPI) -> list[list[Found]]:
    """The QR codes on each page, with their symbol's box in PDF coordinates."""
    pages = []
    document = pdfium.PdfDocument(pdf)
    for page in document:
        height = page.get_height()
        scale = dpi / 72
        image = page.render(scale=scale).to_pil().convert("L")
        found = []
        for barcode in zxingcpp.read_barcodes(image, formats=(zxingcpp.BarcodeFormat.QRCode,)):
            position = barcode.position
            corners = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
            xs = [point.x / scale for point in corners]
            ys = [height - point.y / scale for point in corners]
            found.append(Found(barcode.text, min(xs), min(ys), max(xs), max(ys)))
        pages.append(found)
    return pages


def _page_texts(pdf: bytes) -> list[str]:
    """Each page's text, line breaks and runs of spaces as single spaces."""
    return [" ".join(page.get_textpage().get_text_range().split()) for page in pdfium.PdfDocument(pdf)]


def _glyph_boxes(page: pdfium.PdfPage) -> list[tuple[str, float, float, float, float]]:
    """Every printed character with its tight box (left, bottom, right, top) in points."""
    textpage = page.get_textpage()
    text = textpage.get_text_range()
    assert len(text) == textpage.count_chars()
    boxes = []
    for index, char in enumerate(text):
        left, bottom, right, top = textpage.get_charbox(index)
        if not char.isspace() and right > left and top > bottom:
            boxes.append((char, left, bottom, right, top))
    return boxes


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float], slack: float = 0.2) -> bool:
    return a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack


def test_label_qr_codes_decode_back_to_the_item_urls() -> None:
    items = _items()
    pages = _qr_codes(labels_pdf(items=items, store_name="Kiosk Lindenstraße"))

    assert [len(found) for found in pages] == [24, 6]
    decoded = [code.text for found in pages for code in found]
    assert sorted(decoded) == sorted(item.url for item in items)


def test_each_qr_code_sits_above_its_own_items_code() -> None:
    items = _items()
    code_by_url = {item.url: item.code_text for item in items}
    pdf = labels_pdf(items=items, store_name="Kiosk Lindenstraße")

    for page, found in zip(pdfium.PdfDocument(pdf), _qr_codes(pdf), strict=True):
        textpage = page.get_textpage()
        for code in found:
            under = textpage.get_text_bounded(
                left=code.left, bottom=code.bottom - 10 * MM, right=code.right, top=code.bottom
            )
            assert under.strip() == code_by_url[code.text]


def test_label_qr_codes_are_at_least_20_mm_wide() -> None:
    pages = _qr_codes(labels_pdf(items=_items(), store_name="Kiosk Lindenstraße"))

    widths = [(code.right - code.left) / MM for found in pages for code in found]
    assert min(widths) >= 20


def test_label_text_stays_inside_its_label_clear_of_the_qr_code_and_of_other_text() -> None:
    pdf = labels_pdf(items=_items(), store_name="Kiosk Lindenstraße")
    page = pdfium.PdfDocument(pdf)[0]
    # The sheet: 3 × 8 labels of 70 × 36 mm, flush left and right on A4, 4.5 mm above and below.
    columns, rows = 3, 8
    left, bottom = 0.0, 4.5 * MM
    assert round(LABEL_WIDTH / MM, 9) == 70
    assert round(LABEL_HEIGHT / MM, 9) == 36
    # Each QR symbol grown by its quiet zone: 4 modules, 10 % of a symbol of 40 modules or fewer.
    qr_zones = [
        (
            c.left - 0.1 * (c.right - c.left),
            c.bottom - 0.1 * (c.top - c.bottom),
            c.right + 0.1 * (c.right - c.left),
            c.top + 0.1 * (c.top - c.bottom),
        )
        for c in _qr_codes(pdf)[0]
    ]
    cells: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}

    for char, *box in _glyph_boxes(page):
        x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        if not (bottom <= y <= bottom + rows * LABEL_HEIGHT):
            continue  # the sheet's footer
        column, row = int((x - left) // LABEL_WIDTH), int((y - bottom) // LABEL_HEIGHT)
        cell = (left + column * LABEL_WIDTH, bottom + row * LABEL_HEIGHT)
        assert cell[0] + 1 < box[0], char
        assert box[2] < cell[0] + LABEL_WIDTH - 1, char
        assert cell[1] + 1 < box[1], char
        assert box[3] < cell[1] + LABEL_HEIGHT - 1, char
        assert not any(_overlap(tuple(box), zone) for zone in qr_zones), char
        cells.setdefault((column, row), []).append(tuple(box))

    assert sorted(cells) == sorted(itertools.product(range(columns), range(rows)))
    for boxes in cells.values():
        assert not any(_overlap(a, b) for a, b in itertools.combinations(boxes, 2))


def test_label_text_wraps_ellipsises_folds_and_marks_age_restricted_items() -> None:
    items = _items()
    text = " ".join(_page_texts(labels_pdf(items=items, store_name="Kiosk Lindenstraße")))

    assert "Müller Weißbier Naturtrüb" in text
    assert "Ramen ? Würzig" in text  # the emoji is outside WinAnsi: replaced, not a crash
    assert "Bio Hafer-Drink Barista" in text
    assert "Großpackung" not in text  # the long name's tail gives way to the "…"
    assert text.count("…") == 10  # the long name and the long word, 5 labels each
    assert text.count("18+") == sum(item.is_age_restricted for item in items) == 5
    assert "Kiosk Lindenstraße · sheet 1 of 2" in text
    assert "Kiosk Lindenstraße · sheet 2 of 2" in text


def test_labels_show_prices_only_when_asked() -> None:
    items = _items()
    with_prices = " ".join(_page_texts(labels_pdf(items=items, store_name="Kiosk", show_price=True)))
    without = " ".join(_page_texts(labels_pdf(items=items, store_name="Kiosk", show_price=False)))

    prices = [item.price_text for item in items] + [item.unit_price_text for item in items if item.unit_price_text]
    assert [price for price in prices if price not in with_prices] == []
    assert [price for price in prices if price in without] == []
    assert "€" not in without
    assert without.count("18+") == 5


def test_label_price_shrinks_to_fit_instead_of_overflowing() -> None:
    item = replace(_items()[0], price_text="12.345.678,99 €")
    pdf = labels_pdf(items=[item], store_name="Kiosk")

    assert "12.345.678,99 €" in _page_texts(pdf)[0]
    [[code]] = _qr_codes(pdf)
    textpage = pdfium.PdfDocument(pdf)[0].get_textpage()
    start, count = textpage.search("12.345.678,99 €").get_next()
    price_right = max(textpage.get_charbox(index)[2] for index in range(start, start + count))
    assert price_right < code.left


def test_labels_are_deterministic_and_an_empty_list_gives_one_blank_sheet() -> None:
    items = _items()[:3]

    assert labels_pdf(items=items, store_name="Kiosk") == labels_pdf(items=items, store_name="Kiosk")
    empty = pdfium.PdfDocument(labels_pdf(items=[], store_name="Kiosk"))
    assert len(empty) == 1


@pytest.mark.parametrize("page_size", [A4, LETTER], ids=["A4", "Letter"])
def test_poster_qr_code_decodes_to_the_store_url_and_is_at_least_120_mm(page_size: tuple[float, float]) -> None:
    url = "https://shop.example/s/AB12CD"
    pdf = poster_pdf(
        store_name="Kiosk Lindenstraße", url=url, address="Lindenstraße 5\n10115 Berlin", page_size=page_size
    )

    [[code]] = _qr_codes(pdf, dpi=100)
    assert code.text == url
    assert (code.right - code.left) / MM >= 120
    [text] = _page_texts(pdf)
    assert "Scan to shop" in text
    assert "Kiosk Lindenstraße" in text
    assert "Open your phone camera and point it at the code. No app needed." in text
    assert "Lindenstraße 5" in text
    assert "10115 Berlin" in text
