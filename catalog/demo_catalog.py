"""A realistic, invented convenience-store catalog for demos, tests and benchmarks; framework-free.

``product_specs`` gives a few hundred hand-shaped products of a German Späti (drinks, snacks,
dairy, bakery, tobacco, household, personal care, ice cream), ``product_specs_bulk`` streams
tens of thousands of combinatorial ones for benchmarks, and ``product_image`` draws a product
front that a shelf simulator can paste into a scene.

Conventions, as the catalog models store them:

- GTINs are 14 digits (a GTIN-13 left-padded with 0); units and multipacks carry GS1 Germany
  prefixes 400-440 (400-429 for ``product_specs``, 430-440 for the bulk generator, so the two
  never collide); a case code is the unit's GTIN-13 body behind indicator digit 1.
- ``suggested_retail_price`` is the shelf price including VAT, as German price rules require;
  ``wholesale_cost`` is net of VAT, as a wholesaler invoices. Margin here means
  (retail price without VAT - cost) / retail price without VAT.
- Prices exclude the bottle deposit (Pfand), which German shops show separately.
- Brands are invented; any likeness to a real trademark is an accident to be fixed.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import math
import random
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from catalog.gtin import make

RGB = tuple[int, int, int]
TaxClassName = Literal["standard", "reduced"]
ContentUnitName = Literal["l", "kg", "piece"]
# Package shapes product_image can draw.
Package = Literal["can", "bottle", "carton", "box", "bag", "cup", "pack", "pouch", "blister"]

VAT_RATES: dict[str, Decimal] = {"standard": Decimal("0.19"), "reduced": Decimal("0.07")}


@dataclass(frozen=True, slots=True)
class ProductSpec:
    """One master product as a wholesaler would list it."""

    gtin: str
    name: str
    brand: str
    category_path: str
    category_names: tuple[str, ...]
    unit_size: str
    content_amount: Decimal | None
    content_unit: ContentUnitName
    case_pack: int
    wholesale_cost: int
    suggested_retail_price: int
    is_age_restricted: bool
    minimum_age: int | None
    tax_class: TaxClassName
    colors: tuple[RGB, RGB]
    multipack_gtin: str | None
    case_gtin: str | None
    # Units behind multipack_gtin (the Barcode quantity); None without a multipack code.
    multipack_quantity: int | None = None
    package: Package = "box"


# --- the assortment -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Size:
    label: str
    amount: Decimal | None
    unit: ContentUnitName
    case_pack: int
    price: int  # typical Späti shelf price in cents, before brand tier and variant factor
    package: Package
    multipack: int | None = None
    # Tobacco carries its retail price on the tax stamp: these exact prices, no rounding to 9.
    fixed_prices: tuple[int, ...] = ()
    # Tells apart two sizes with one label: "Dose" (can) and "Glas" (glass bottle).
    suffix: str = ""


@dataclass(frozen=True, slots=True)
class _Variant:
    name: str
    factor: float = 1.0
    sizes: tuple[_Size, ...] = ()


@dataclass(frozen=True, slots=True)
class _Line:
    path: str
    names: tuple[str, ...]
    brands: tuple[str, ...]
    variants: tuple[_Variant, ...]
    sizes: tuple[_Size, ...]
    weight: int  # share of the default assortment
    tax: TaxClassName
    age: int | None
    margin: tuple[float, float]
    combos: tuple[tuple[_Variant, _Size], ...] = field(default=(), compare=False)


def _s(
    label: str,
    case: int,
    price: int,
    package: Package,
    *,
    multipack: int | None = None,
    fixed: tuple[int, ...] = (),
    suffix: str = "",
) -> _Size:
    """A size from its printed label: '0.5 l', '200 g', '90 ml', '20 pcs', '6 × 0.33 l'."""
    count, _, single = label.rpartition(" × ")
    number, unit = single.split(" ")
    amount = Decimal(number) * (Decimal(count) if count else 1)
    if unit == "g":
        amount, content_unit = amount / 1000, "kg"
    elif unit == "ml":
        amount, content_unit = amount / 1000, "l"
    elif unit == "l":
        content_unit = "l"
    else:  # pcs, pc, rolls
        content_unit = "piece"
    # Decimal("20").normalize() would print as 2E+1.
    amount = amount.quantize(1) if amount == amount.to_integral_value() else amount.normalize()
    return _Size(label, amount, content_unit, case, price, package, multipack, fixed, suffix)  # type: ignore[arg-type]


def _v(name: str, factor: float = 1.0, *sizes: _Size) -> _Variant:
    return _Variant(name, factor, sizes)


def _line(
    path: str,
    names: tuple[str, ...],
    brands: tuple[str, ...],
    variants: tuple[str | _Variant, ...],
    sizes: tuple[_Size, ...] = (),
    *,
    weight: int,
    tax: TaxClassName,
    age: int | None = None,
    margin: tuple[float, float] = (0.28, 0.42),
) -> _Line:
    plain = tuple(_Variant(v) if isinstance(v, str) else v for v in variants)
    combos = tuple((v, s) for v in plain for s in (v.sizes or sizes))
    return _Line(path, names, brands, plain, sizes, weight, tax, age, margin, combos)


_TOP_NAMES = {
    "drinks": "Drinks",
    "snacks": "Snacks",
    "dairy": "Dairy",
    "bread": "Bread & bakery",
    "tobacco": "Tobacco",
    "household": "Household",
    "personal-care": "Personal care",
    "frozen": "Frozen",
}
_DAIRY = ("Lindenhof", "Weidegold", "Almliebe")
_CIGARETTE_20 = (880, 900, 920, 950, 980)
_CIGARETTE_25 = (1080, 1100, 1150, 1200)

# Sizes, case packs and prices of a Berlin Späti in 2024; VAT and youth-protection ages as
# German law has them (JuSchG §9: beer, wine and sparkling wine from 16, spirits and drinks
# containing them from 18; §10: tobacco and e-cigarettes from 18).
# fmt: off
_LINES: tuple[_Line, ...] = (
    _line("drinks/soft-drinks", ("Soft drinks",), ("Kiezbrause", "Brausewerk", "Havelperle"),
          ("Cola", "Cola Zero", "Orangenlimonade", "Zitronenlimonade", "Mate", "Rhabarberschorle",
           "Ginger Ale", "Bitter Lemon", "Apfelschorle", "Kräuterlimonade", "Holunderblüte", "Cola-Orange"),
          (_s("0.33 l", 24, 179, "can", multipack=6, suffix="Dose"), _s("0.5 l", 12, 219, "bottle"),
           _s("0.33 l", 24, 229, "bottle", suffix="Glas"), _s("1.5 l", 6, 279, "bottle")),
          weight=24, tax="standard"),
    _line("drinks/water", ("Water",), ("Havelperle", "Uckerquell", "Kranichbrunnen"),
          ("Mineralwasser Classic", "Mineralwasser Medium", "Mineralwasser Naturell", "Wasser + Zitrone",
           "Wasser + Apfel"),
          (_s("0.5 l", 12, 119, "bottle"), _s("1.5 l", 6, 169, "bottle"), _s("0.75 l", 12, 159, "bottle")),
          weight=10, tax="standard"),
    _line("drinks/juice", ("Juice",), ("Obsthof Elbtal", "Sonnengut", "Gartenfrisch"),
          ("Orangensaft", "Apfelsaft naturtrüb", "Multivitamin", "Kirschnektar", "Maracujanektar",
           "Bananennektar", "Tomatensaft", "Roter Traubensaft"),
          (_s("1 l", 12, 279, "carton"), _s("0.33 l", 24, 219, "bottle")),
          weight=9, tax="standard"),
    _line("drinks/juice", ("Juice",), ("Sonnengut", "Gartenfrisch"),
          ("Smoothie Mango-Maracuja", "Smoothie Erdbeer-Banane", "Smoothie Apfel-Spinat"),
          (_s("0.25 l", 8, 299, "bottle"),), weight=3, tax="standard"),
    _line("drinks/energy-drinks", ("Energy drinks",), ("Volt Kater", "Blitzbock", "Nachtschicht"),
          ("Energy Original", "Energy Sugarfree", "Energy Mango", "Energy Tropical", "Energy Berry",
           "Energy Ice", "Energy Wassermelone", "Energy Kaktus"),
          (_s("0.25 l", 24, 199, "can", multipack=4), _s("0.5 l", 24, 279, "can")),
          weight=12, tax="standard"),
    _line("drinks/beer", ("Beer",), ("Hafenbräu", "Eichwalder", "Bergfels", "Kloster Weidenau", "Kiezbräu"),
          ("Pils", "Helles", "Export", "Weißbier", "Radler Zitrone", "Dunkel", "Kellerbier", "Lager",
           _v("India Pale Ale", 1.5), "Bock"),
          (_s("0.5 l", 20, 159, "bottle", multipack=6), _s("0.33 l", 24, 149, "bottle", multipack=6),
           _s("0.5 l", 24, 169, "can", suffix="Dose")),
          weight=26, tax="standard", age=16),
    _line("drinks/wine", ("Wine & sparkling wine",), ("Weingut Sonnenhang", "Moselblick", "Rebenglück"),
          ("Riesling trocken", "Grauburgunder trocken", "Spätburgunder", "Dornfelder halbtrocken", "Rosé",
           "Müller-Thurgau"),
          (_s("0.75 l", 6, 699, "bottle"), _s("0.25 l", 12, 349, "bottle")),
          weight=8, tax="standard", age=16),
    _line("drinks/wine", ("Wine & sparkling wine",), ("Rebenglück", "Moselblick"),
          ("Sekt trocken", "Sekt Rosé", "Secco"),
          (_s("0.75 l", 6, 599, "bottle"), _s("0.2 l", 24, 299, "bottle")),
          weight=4, tax="standard", age=16),
    _line("drinks/spirits", ("Spirits",), ("Kieznacht", "Nordkorn", "Brennerei Elbtal", "Wacholderhof"),
          (_v("Korn", 0.7), _v("Doppelkorn", 0.75), "Wodka", _v("Gin", 1.6), _v("Rum braun", 1.2),
           _v("Kräuterlikör", 1.1), _v("Pfefferminzlikör", 0.8), _v("Feigenlikör", 0.8), "Weinbrand",
           _v("Obstler", 1.1)),
          (_s("0.7 l", 6, 1499, "bottle"), _s("0.35 l", 12, 899, "bottle"), _s("0.02 l", 25, 119, "bottle")),
          weight=12, tax="standard", age=18),
    _line("drinks/spirits", ("Spirits",), ("Kieznacht", "Nachtfalter"),
          ("Wodka Mate", "Whisky Cola", "Rum Cola", "Gin Tonic", "Wodka Energy"),
          (_s("0.33 l", 24, 279, "can"),), weight=5, tax="standard", age=18),
    # Milk-based ready-to-drink coffee (75 % milk or more) and roasted coffee are food: 7 %.
    _line("drinks/coffee", ("Coffee",), ("Kaffeeklatsch", "Milchbar"),
          ("Latte Macchiato", "Cappuccino", "Espresso Macchiato", "Caramel Latte", "Vanilla Latte"),
          (_s("0.25 l", 10, 199, "cup"),), weight=5, tax="reduced"),
    _line("drinks/coffee", ("Coffee",), ("Röstwerk", "Hanseatische Rösterei"),
          ("Kaffee Klassisch gemahlen", "Kaffee Mild gemahlen", "Espresso ganze Bohne", "Kaffee entkoffeiniert",
           "Crema ganze Bohne"),
          (_s("500 g", 12, 749, "bag"), _s("250 g", 12, 449, "bag")), weight=4, tax="reduced"),
    _line("snacks/chips", ("Chips",), ("Knusperkönig", "Kartoffelhof", "Ackerknusper"),
          ("Chips Paprika", "Chips Gesalzen", "Chips Sour Cream & Onion", "Chips Salt & Vinegar", "Chips Chili",
           "Chips Käse & Zwiebel", "Chips Barbecue", "Chips Rosmarin"),
          (_s("175 g", 10, 259, "bag"), _s("40 g", 24, 129, "bag")), weight=12, tax="reduced"),
    _line("snacks/chips", ("Chips",), ("Knusperkönig", "Ackerknusper"),
          ("Erdnussflips", _v("Salzstangen", 0.7), _v("Salzbrezeln", 0.75), "Tortilla Chips Nacho",
           "Tortilla Chips Salted", _v("Popcorn süß", 1.1)),
          (_s("150 g", 12, 199, "bag"),), weight=5, tax="reduced"),
    _line("snacks/chocolate", ("Chocolate",), ("Alpenzart", "Kakaohaus", "Süßwerk"),
          ("Vollmilch", "Zartbitter 70 %", "Nuss-Nougat", "Ganze Haselnuss", "Joghurt-Erdbeer", "Marzipan",
           "Knusperreis", "Weiße Crisp", "Karamell & Meersalz", "Rum-Traube-Nuss"),
          (_s("100 g", 12, 179, "box"),), weight=14, tax="reduced"),
    _line("snacks/chocolate", ("Chocolate",), ("Süßwerk", "Kakaohaus"),
          ("Karamell-Erdnuss-Riegel", "Kokosriegel", "Waffelriegel", "Nougatriegel", "Müsliriegel Schoko"),
          (_s("50 g", 24, 129, "bag", multipack=5),), weight=6, tax="reduced"),
    _line("snacks/candy", ("Candy & gum",), ("Zuckerfee", "Gummiwerk", "Naschkiste"),
          ("Gummibärchen", "Saure Zungen", "Colafläschchen", "Lakritzschnecken", "Weingummi",
           "Fruchtgummi vegan", "Saure Pommes", "Schaumerdbeeren"),
          (_s("200 g", 18, 179, "bag"), _s("100 g", 30, 119, "bag")), weight=12, tax="reduced"),
    _line("snacks/candy", ("Candy & gum",), ("Frischkau", "Minzwind"),
          ("Kaugummi Spearmint", "Kaugummi Peppermint", "Kaugummi Eukalyptus", "Kaugummi Wassermelone",
           "Kaugummi Cool Mint"),
          (_s("10 pcs", 30, 119, "box"), _s("50 pcs", 6, 349, "cup")), weight=5, tax="reduced"),
    _line("snacks/nuts", ("Nuts",), ("Nusskern", "Kernig"),
          (_v("Erdnüsse geröstet & gesalzen", 0.8), _v("Cashewkerne", 1.3), "Studentenfutter",
           _v("Mandeln", 1.2), _v("Pistazien", 1.6), _v("Nussmix", 1.2), _v("Erdnüsse Chili", 0.85),
           _v("Wasabi-Erdnüsse", 0.9)),
          (_s("200 g", 12, 279, "bag"), _s("150 g", 12, 229, "bag")), weight=7, tax="reduced"),
    _line("snacks/cookies", ("Cookies & biscuits",), ("Keksmühle", "Hansekeks", "Backstube Lindner"),
          ("Butterkekse", "Schoko-Cookies", "Doppelkekse Vanille", "Haferkekse", "Haselnusswaffeln",
           "Zartbitterkekse", "Spritzgebäck", "Vollkorn-Mürbekekse"),
          (_s("200 g", 12, 219, "box"), _s("150 g", 12, 189, "box")), weight=8, tax="reduced"),
    _line("dairy/milk", ("Milk",), _DAIRY,
          ("Frische Vollmilch 3.5 %", "Frische fettarme Milch 1.5 %", "H-Milch 3.5 %", "H-Milch 1.5 %",
           _v("Laktosefreie Milch 1.5 %", 1.2)),
          (_s("1 l", 12, 179, "carton"),), weight=6, tax="reduced"),
    _line("dairy/milk", ("Milk",), ("Weidegold", "Almliebe"),
          ("Kakao", "Erdbeermilch", "Vanillemilch", "Bananenmilch"),
          (_s("0.5 l", 10, 179, "bottle"),), weight=4, tax="reduced"),
    # Plant drinks are not milk for VAT: 19 %.
    _line("dairy/milk", ("Milk",), ("Haferglück", "Feldliebe"),
          ("Haferdrink Natur", "Haferdrink Barista", "Sojadrink Natur", _v("Mandeldrink ungesüßt", 1.2)),
          (_s("1 l", 12, 249, "carton"),), weight=4, tax="standard"),
    _line("dairy/yogurt", ("Yogurt",), _DAIRY,
          ("Naturjoghurt 3.5 %", "Joghurt Erdbeere", "Joghurt Heidelbeere", _v("Griechischer Joghurt 10 %", 1.3),
           "Joghurt Stracciatella", "Joghurt Pfirsich-Maracuja", _v("Skyr Natur", 1.2), "Joghurt Vanille"),
          (_s("150 g", 12, 99, "cup"), _s("500 g", 6, 199, "cup"), _s("4 × 125 g", 6, 229, "box")),
          weight=8, tax="reduced"),
    _line("dairy/cheese", ("Cheese",), ("Bergkäserei Sonnalp", "Lindenhof"),
          ("Gouda jung in Scheiben", "Butterkäse in Scheiben", "Emmentaler in Scheiben", "Tilsiter in Scheiben",
           _v("Bergkäse in Scheiben", 1.4), "Gouda mittelalt in Scheiben"),
          (_s("150 g", 10, 249, "box"),), weight=5, tax="reduced"),
    _line("dairy/cheese", ("Cheese",), ("Bergkäserei Sonnalp", "Weidegold"),
          ("Camembert", "Mozzarella", "Brie", _v("Ziegenfrischkäse", 1.3)),
          (_s("125 g", 10, 199, "box"),), weight=3, tax="reduced"),
    _line("dairy/butter", ("Butter",), _DAIRY,
          ("Deutsche Markenbutter", "Süßrahmbutter", "Mildgesäuerte Butter", _v("Butter gesalzen", 1.1),
           _v("Streichzart", 1.05)),
          (_s("250 g", 20, 299, "box"),), weight=4, tax="reduced"),
    _line("bread/bread", ("Bread",), ("Backhaus Morgenrot", "Kornblume", "Hansebäcker"),
          ("Sandwich Toast", "Vollkorntoast", "Buttertoast", _v("Dinkeltoast", 1.2),
           _v("Roggenmischbrot geschnitten", 1.1), "Vollkornbrot"),
          (_s("500 g", 6, 219, "bag"), _s("250 g", 10, 149, "bag")), weight=5, tax="reduced"),
    _line("bread/pastries", ("Pastries",), ("Backhaus Morgenrot", "Hansebäcker"),
          ("Buttercroissant", "Schoko-Croissant", "Laugenbrezel", _v("Zimtschnecke", 1.4), "Pfannkuchen",
           "Apfeltasche"),
          (_s("1 pc", 20, 129, "bag"), _s("4 pcs", 12, 349, "bag")), weight=5, tax="reduced"),
    # Tobacco margins are thin (about 8 % of the price) because tax is most of the price.
    _line("tobacco/cigarettes", ("Cigarettes",), ("Rotfuchs", "Falkner", "Nordstern", "Parkbank", "Windrose"),
          ("Original Red", "Blue", "Gold", "Silver", "White", "Black", "Fine Blue"),
          (_s("20 pcs", 10, 0, "pack", fixed=_CIGARETTE_20), _s("25 pcs", 10, 0, "pack", fixed=_CIGARETTE_25)),
          weight=18, tax="standard", age=18, margin=(0.07, 0.11)),
    _line("tobacco/rolling-tobacco", ("Rolling tobacco",), ("Rotfuchs", "Krauthof", "Drehmoment"),
          ("Original", "Halfzware", "Blond", "Dark", "Vollmundig"),
          (_s("30 g", 10, 0, "pouch", fixed=(790, 810, 850)), _s("40 g", 10, 0, "pouch", fixed=(1000, 1050, 1090))),
          weight=7, tax="standard", age=18, margin=(0.07, 0.11)),
    _line("tobacco/e-cigarettes", ("E-cigarettes",), ("Dampfwolke", "Nebelkrähe"),
          ("Vape Wassermelone Ice", "Vape Blaubeere", "Vape Mango", "Vape Tabak Classic", "Vape Pfirsich",
           "Vape Minze"),
          (_s("2 ml", 10, 899, "box"),), weight=6, tax="standard", age=18, margin=(0.30, 0.40)),
    _line("tobacco/accessories", ("Papers, filters & lighters",), ("Blattwerk", "Feinblatt"),
          (_v("Papers King Size Slim", 1, _s("32 pcs", 50, 129, "box")),
           _v("Papers Regular", 1, _s("50 pcs", 50, 99, "box")),
           _v("Filter Tips Slim", 1, _s("150 pcs", 20, 149, "box")),
           _v("Aktivkohlefilter", 1, _s("50 pcs", 10, 399, "box")),
           _v("Zigarettenhülsen", 1, _s("200 pcs", 10, 199, "box"))),
          weight=6, tax="standard", margin=(0.35, 0.45)),
    _line("tobacco/accessories", ("Papers, filters & lighters",), ("Flämmchen", "Funkenflug"),
          ("Feuerzeug Reibrad", "Feuerzeug Elektronik", _v("Stabfeuerzeug", 2.0)),
          (_s("1 pc", 50, 129, "blister"),), weight=3, tax="standard", margin=(0.35, 0.45)),
    _line("household/batteries", ("Batteries",), ("Kraftzelle", "Voltaris"),
          ("Alkaline AA", "Alkaline AAA", _v("Akku AA 2000 mAh", 2.0),
           _v("Alkaline 9V", 1, _s("1 pc", 10, 449, "blister")),
           _v("Knopfzelle CR2032", 1, _s("1 pc", 10, 299, "blister"))),
          (_s("4 pcs", 10, 549, "blister"),), weight=5, tax="standard"),
    _line("household/tissues", ("Tissues",), ("Sanftblatt", "Wolkenweich"),
          ("Taschentücher Classic 4-lagig", "Taschentücher Balsam", "Taschentücher Mini 3-lagig",
           _v("Kosmetiktücher", 1, _s("100 pcs", 12, 199, "box"))),
          (_s("10 × 10 pcs", 16, 199, "bag"),), weight=3, tax="standard"),
    _line("household/toilet-paper", ("Toilet paper",), ("Sanftblatt", "Wolkenweich"),
          ("Toilettenpapier 3-lagig", _v("Toilettenpapier 4-lagig", 1.2), _v("Toilettenpapier Recycling", 0.9),
           _v("Küchenrolle", 1, _s("4 rolls", 8, 349, "bag"))),
          (_s("8 rolls", 6, 549, "bag"),), weight=4, tax="standard"),
    _line("household/cleaning", ("Detergent & cleaning",), ("Blitzblank", "Glanzhaus"),
          ("Spülmittel Zitrone", "Spülmittel Sensitiv", _v("Allzweckreiniger", 1, _s("1 l", 12, 249, "bottle")),
           _v("Colorwaschmittel flüssig", 1, _s("1.1 l", 6, 599, "bottle")),
           _v("Müllbeutel 35 l", 1, _s("20 pcs", 20, 229, "bag")),
           _v("Spülschwämme", 1, _s("5 pcs", 20, 199, "bag"))),
          (_s("0.5 l", 20, 179, "bottle"),), weight=6, tax="standard"),
    _line("personal-care/oral-care", ("Oral care",), ("Strahlzahn", "Minzwerk"),
          ("Zahnpasta Kräuter", _v("Zahnpasta Whitening", 1.2), _v("Zahnpasta Sensitiv", 1.2),
           _v("Zahnbürste mittel", 1, _s("1 pc", 12, 249, "blister")),
           _v("Mundspülung", 1, _s("500 ml", 6, 349, "bottle"))),
          (_s("75 ml", 12, 229, "box"),), weight=4, tax="standard"),
    _line("personal-care/body-care", ("Body care",), ("Seifenhaus", "Sanfthaut", "Frischwerk"),
          ("Duschgel Meeresbrise", "Duschgel Vanille", _v("Shampoo Normal", 1, _s("300 ml", 12, 329, "bottle")),
           _v("Deospray Fresh", 1, _s("150 ml", 6, 329, "can")),
           _v("Handcreme", 1, _s("75 ml", 12, 299, "box")),
           _v("Lippenpflege", 1, _s("1 pc", 24, 199, "blister"))),
          (_s("250 ml", 12, 249, "bottle"),), weight=6, tax="standard"),
    _line("personal-care/hygiene", ("Hygiene",), ("Heilpunkt", "Liebesglück"),
          (_v("Pflaster Strips", 1, _s("20 pcs", 10, 299, "box")), _v("Kondome", 1, _s("3 pcs", 12, 499, "box")),
           _v("Kondome", 1, _s("8 pcs", 12, 999, "box")), _v("Handdesinfektion", 1, _s("100 ml", 12, 299, "bottle"))),
          weight=4, tax="standard"),
    # Menstrual products have been taxed at 7 % since 2020.
    _line("personal-care/hygiene", ("Hygiene",), ("Sanftblatt", "Heilpunkt"),
          ("Tampons normal", "Tampons super", "Slipeinlagen"),
          (_s("16 pcs", 12, 249, "box"),), weight=2, tax="reduced"),
    _line("frozen/ice-cream", ("Ice cream",), ("Polarbär", "Kiezeis", "Gletscherglück"),
          ("Vanille-Schoko Stieleis", _v("Mandel Stieleis", 1.15), _v("Wassereis Kirsch", 0.55),
           "Erdbeer-Vanille Stieleis", "Cookie Sandwich", "Karamell Stieleis", "Kokos Stieleis",
           _v("Eishörnchen Vanille", 1, _s("120 ml", 24, 249, "bag"))),
          (_s("90 ml", 24, 229, "bag"),), weight=10, tax="reduced"),
    _line("frozen/ice-cream", ("Ice cream",), ("Polarbär", "Gletscherglück"),
          ("Vanille", "Schokolade", "Cookie Dough", "Erdbeer-Joghurt", "Salted Caramel", "Stracciatella",
           _v("Pistazie", 1.2)),
          (_s("500 ml", 6, 499, "cup"),), weight=5, tax="reduced"),
)
# fmt: on

# Editions the bulk generator puts between brand and product, per top-level category.
_EDITIONS = {
    "drinks": ("Classic", "Bio", "Premium", "Original", "Limited", "Naturell", "Extra", "Select"),
    "snacks": ("Classic", "Bio", "Extra", "Family", "Mini", "Vegan", "Original", "Premium"),
    "dairy": ("Bio", "Weidemilch", "Alpen", "Regional", "Classic", "Premium", "Hofgut", "Original"),
    "bread": ("Bio", "Classic", "Landbäcker", "Original", "Regional", "Extra", "Kraftkorn", "Premium"),
    "tobacco": ("Classic", "Original", "Premium", "Fine", "Pure", "Select", "Bold", "Smooth"),
    "household": ("Classic", "Öko", "Extra", "Sensitiv", "Ultra", "Compact", "Premium", "Original"),
    "personal-care": ("Classic", "Sensitiv", "Fresh", "Bio", "Ultra", "Extra", "Men", "Original"),
    "frozen": ("Classic", "Premium", "Bio", "Mini", "Family", "Vegan", "Original", "Extra"),
}
# fmt: off
_BRAND_HEADS = (
    "Spree", "Havel", "Elb", "Isar", "Rhein", "Oder", "Main", "Mosel", "Alster", "Ostsee", "Nord", "Süd",
    "Berg", "Wald", "Feld", "Sonnen", "Stern", "Mond", "Eichen", "Birken", "Linden", "Kiez", "Hafen",
    "Kloster", "Heide", "Moor", "Auen", "Brücken", "Falken", "Kranich", "Fuchs", "Biber", "Wiesen",
    "Garten", "Quellen", "Morgen", "Abend", "Silber", "Gold", "Kupfer",
)
_BRAND_TAILS = (
    "quell", "bräu", "hof", "gold", "land", "werk", "haus", "perle", "brise", "blick", "krone", "garten",
    "mühle", "thal", "stolz", "glück", "zauber", "kind", "frisch", "gut",
)
# fmt: on
_BULK_BRANDS = tuple(head + tail for head in _BRAND_HEADS for tail in _BRAND_TAILS)
_TIER_FACTORS = (0.92, 1.0, 1.1)


def _crc(text: str) -> int:
    """A hash that is the same in every process (str hash() is salted per process)."""
    return zlib.crc32(text.encode())


def _retail_price(cents: float) -> int:
    """A shelf price ending in 9: 1.79, 2.49, 14.99."""
    step = 10 if cents < 1000 else 50
    return max(19, round(cents / step) * step - 1)


def _net_cost(price: int, tax: TaxClassName, margin: float) -> int:
    net = Decimal(price) / (1 + VAT_RATES[tax])
    return max(1, int((net * Decimal(1 - margin)).to_integral_value()))


def _colors(hue: float, key: int) -> tuple[RGB, RGB]:
    """A primary and a clearly different secondary colour: one light, one dark, hues apart."""
    saturation = 0.55 + (key & 0xFF) / 255 * 0.4
    value = 0.45 + ((key >> 8) & 0xFF) / 255 * 0.5
    hue2 = (hue + 0.25 + ((key >> 16) & 0xFF) / 255 * 0.5) % 1.0
    shift = ((key >> 24) & 0x3F) / 63
    value2 = 0.2 + shift * 0.25 if value > 0.7 else 0.8 + shift * 0.2
    saturation2 = 0.3 + ((key >> 4) & 0x3F) / 63 * 0.6
    return _rgb(hue, saturation, value), _rgb(hue2, saturation2, value2)


def _rgb(hue: float, saturation: float, value: float) -> RGB:
    red, green, blue = colorsys.hsv_to_rgb(hue, saturation, value)
    return round(red * 255), round(green * 255), round(blue * 255)


def _allocate(count: int, lines: Sequence[_Line]) -> list[int]:
    """Split count over the lines by weight (largest remainder), never above a line's capacity."""
    quotas = [0] * len(lines)
    open_lines = [i for i, line in enumerate(lines) if line.combos]
    remaining = count
    while remaining and open_lines:
        total = sum(lines[i].weight for i in open_lines)
        shares = {i: remaining * lines[i].weight / total for i in open_lines}
        given = {i: math.floor(share) for i, share in shares.items()}
        by_remainder = sorted(open_lines, key=lambda i: (given[i] - shares[i], i))
        for i in by_remainder[: remaining - sum(given.values())]:
            given[i] += 1
        for i in open_lines:
            take = min(given[i], len(lines[i].combos) * len(lines[i].brands) - quotas[i])
            quotas[i] += take
            remaining -= take
        open_lines = [i for i in open_lines if quotas[i] < len(lines[i].combos) * len(lines[i].brands)]
    if remaining:
        raise ValueError(f"The demo assortment has {count - remaining} products at most; use product_specs_bulk.")
    return quotas


class _Prefixes:
    """Company prefixes (7 digits) per brand and the next free item reference of each."""

    def __init__(self, rng: random.Random, low: int, high: int) -> None:
        self.rng, self.low, self.high = rng, low, high
        self.prefix: dict[str, str] = {}
        self.next_item: dict[str, int] = {}

    def gtin(self, brand: str) -> str:
        if brand not in self.prefix:
            # Stable per brand name (not per seed), so a brand keeps its prefix across demos.
            number = self.low * 10_000 + _crc(brand) % ((self.high - self.low + 1) * 10_000)
            while f"{number:07d}" in self.prefix.values():
                number = self.low * 10_000 if number + 1 > self.high * 10_000 + 9_999 else number + 1
            self.prefix[brand] = f"{number:07d}"
            self.next_item[brand] = self.rng.randrange(100, 60_000)
        item = self.next_item[brand]
        # Gaps between item numbers, as a manufacturer's range has discontinued products.
        self.next_item[brand] = item + self.rng.randint(1, 9)
        return "0" + make(f"{self.prefix[brand]}{item:05d}")


def product_specs(*, count: int = 320, seed: int = 7) -> list[ProductSpec]:
    """``count`` distinct products spread over all categories; the same list for the same seed."""
    if count < 0:
        raise ValueError("count cannot be negative.")
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    prefixes = _Prefixes(rng, 400, 429)
    picked: list[tuple[_Line, str, _Variant, _Size]] = []
    for line, quota in zip(_LINES, _allocate(count, _LINES), strict=True):
        combos = [(brand, variant, size) for variant, size in line.combos for brand in line.brands]
        chosen = sorted(rng.sample(range(len(combos)), quota))
        picked.extend((line, *combos[i]) for i in chosen)
    picked.sort(key=lambda item: (item[0].path, item[1], item[2].name, item[3].label, item[3].package))
    specs = []
    seen_in_path: dict[str, int] = {}
    for line, brand, variant, size in picked:
        gtin = prefixes.gtin(brand)
        multipack = prefixes.gtin(brand) if size.multipack and rng.random() < 0.8 else None
        if size.fixed_prices:
            price = rng.choice(size.fixed_prices)
        else:
            tier = _TIER_FACTORS[_crc(brand) % 3]
            price = _retail_price(size.price * variant.factor * tier * rng.uniform(0.95, 1.05))
        # Neighbours on a shelf are usually of one category: step their hues by the golden
        # ratio so that any two of them look different to a camera.
        index = seen_in_path[line.path] = seen_in_path.get(line.path, -1) + 1
        hue = (_crc(line.path) / 2**32 + index * 0.618034) % 1.0
        name = " ".join(filter(None, (brand, variant.name, size.suffix)))
        specs.append(_spec(line, brand, name, size, gtin, multipack, price, rng.uniform(*line.margin), hue))
    return specs


def _spec(
    line: _Line,
    brand: str,
    name: str,
    size: _Size,
    gtin: str,
    multipack: str | None,
    price: int,
    margin: float,
    hue: float,
) -> ProductSpec:
    top = line.path.split("/", 1)[0]
    return ProductSpec(
        gtin=gtin,
        name=name,
        brand=brand,
        category_path=line.path,
        category_names=(_TOP_NAMES[top], *line.names),
        unit_size=size.label,
        content_amount=size.amount,
        content_unit=size.unit,
        case_pack=size.case_pack,
        wholesale_cost=_net_cost(price, line.tax, margin),
        suggested_retail_price=price,
        is_age_restricted=line.age is not None,
        minimum_age=line.age,
        tax_class=line.tax,
        colors=_colors(hue, _crc(gtin)),
        multipack_gtin=multipack,
        case_gtin=make("1" + gtin[1:13]) if size.case_pack > 1 else None,
        multipack_quantity=size.multipack if multipack else None,
        package=size.package,
    )


def product_specs_bulk(*, count: int, seed: int = 1) -> Iterator[ProductSpec]:
    """``count`` products named '<Brand> <Edition> <Product>' with unique GTINs, lazily, for benchmarks."""
    if count < 0:
        raise ValueError("count cannot be negative.")
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
    brands = len(_BULK_BRANDS)
    # Weighted round robin over the lines; within a line an affine permutation of its
    # (brand, edition, product, size) space visits each combination once, in scattered order.
    schedule = [i for i, line in enumerate(_LINES) for _ in range(line.weight)]
    rng.shuffle(schedule)
    capacity = [brands * len(_EDITIONS[line.path.split("/")[0]]) * len(line.combos) for line in _LINES]
    steps = []
    for space in capacity:
        step = rng.randrange(space // 3, space)
        while math.gcd(step, space) != 1:
            step += 1
        steps.append((step, rng.randrange(space)))
    used = [0] * len(_LINES)
    next_item = [rng.randrange(100, 10_000) for _ in range(brands)]
    # Unique 7-digit company prefixes 4300000-4409463, one per bulk brand.
    company = [f"{4_300_000 + b * 137:07d}" for b in range(brands)]
    tiers = [_TIER_FACTORS[_crc(brand) % 3] for brand in _BULK_BRANDS]
    for n in range(count):
        index = schedule[n % len(schedule)]
        line = _LINES[index]
        k = used[index]
        if k >= capacity[index]:
            raise ValueError(f"count {count} exceeds what the bulk generator can name uniquely.")
        used[index] = k + 1
        step, offset = steps[index]
        code = (k * step + offset) % capacity[index]
        code, b = divmod(code, brands)
        editions = _EDITIONS[line.path.split("/")[0]]
        combo, edition = divmod(code, len(editions))
        variant, size = line.combos[combo]
        item = next_item[b]
        # Two in three products that come in multipacks get a multipack code.
        has_multipack = size.multipack is not None and n % 3 != 0
        next_item[b] = item + 1 + has_multipack
        if next_item[b] > 100_000:
            raise ValueError(f"count {count} exhausts the item numbers of a bulk brand.")
        gtin = "0" + make(f"{company[b]}{item:05d}")
        multipack_gtin = "0" + make(f"{company[b]}{item + 1:05d}") if has_multipack else None
        jitter = 0.95 + (code * 7919 % 101) / 1000
        if size.fixed_prices:
            price = size.fixed_prices[code % len(size.fixed_prices)]
        else:
            price = _retail_price(size.price * variant.factor * tiers[b] * jitter)
        margin = line.margin[0] + (line.margin[1] - line.margin[0]) * (code * 104729 % 97) / 96
        brand = _BULK_BRANDS[b]
        name = " ".join(filter(None, (brand, editions[edition], variant.name, size.suffix)))
        yield _spec(line, brand, name, size, gtin, multipack_gtin, price, margin, (n * 0.618034) % 1.0)


# --- product fronts -------------------------------------------------------------------------

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
