"""A realistic, invented convenience-store catalog for demos, tests and benchmarks; framework-free.

This module is the data (product lines, sizes, brands); ``demo.products`` turns it into product
specs and ``demo.images`` draws their fronts.

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

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

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
class Size:
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
class Variant:
    name: str
    factor: float = 1.0
    sizes: tuple[Size, ...] = ()


@dataclass(frozen=True, slots=True)
class Line:
    path: str
    names: tuple[str, ...]
    brands: tuple[str, ...]
    variants: tuple[Variant, ...]
    sizes: tuple[Size, ...]
    weight: int  # share of the default assortment
    tax: TaxClassName
    age: int | None
    margin: tuple[float, float]
    combos: tuple[tuple[Variant, Size], ...] = field(default=(), compare=False)


def _s(
    label: str,
    case: int,
    price: int,
    package: Package,
    *,
    multipack: int | None = None,
    fixed: tuple[int, ...] = (),
    suffix: str = "",
) -> Size:
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
    return Size(label, amount, content_unit, case, price, package, multipack, fixed, suffix)  # type: ignore[arg-type]


def _v(name: str, factor: float = 1.0, *sizes: Size) -> Variant:
    return Variant(name, factor, sizes)


def _line(
    path: str,
    names: tuple[str, ...],
    brands: tuple[str, ...],
    variants: tuple[str | Variant, ...],
    sizes: tuple[Size, ...] = (),
    *,
    weight: int,
    tax: TaxClassName,
    age: int | None = None,
    margin: tuple[float, float] = (0.28, 0.42),
) -> Line:
    plain = tuple(Variant(v) if isinstance(v, str) else v for v in variants)
    combos = tuple((v, s) for v in plain for s in (v.sizes or sizes))
    return Line(path, names, brands, plain, sizes, weight, tax, age, margin, combos)


TOP_NAMES = {
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
LINES: tuple[Line, ...] = (
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
EDITIONS = {
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
BULK_BRANDS = tuple(head + tail for head in _BRAND_HEADS for tail in _BRAND_TAILS)
TIER_FACTORS = (0.92, 1.0, 1.1)
