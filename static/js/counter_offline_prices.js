// The till's arithmetic for selling offline, the server's rules written again for the browser:
// which product a scanned code names (catalog.gtin.normalize), what a sale costs
// (checkout.services.pricing, catalog.taxes), amounts as core.money shows and reads them, and the
// cash a shopper is likely to hand over (checkout.services.counter.cash_suggestions). No page and
// no storage here: counter_offline.js calls these as window.LingshouTill.
(function () {
  "use strict";

  // The form the server compares: 14 digits with a valid check digit, or L<id> for a store's own
  // product; null for anything else (the server would refuse it too).
  function codeKey(raw) {
    var code = String(raw).trim();
    if (/^[Ll]\d+$/.test(code)) {
      return "L" + code.slice(1);
    }
    code = code.replace(/[ -]/g, "");
    if (!/^\d+$/.test(code) || [8, 12, 13, 14].indexOf(code.length) < 0) {
      return null;
    }
    var sum = 0;
    for (var i = code.length - 2, weight = 3; i >= 0; i--, weight = 4 - weight) {
      sum += Number(code[i]) * weight;
    }
    if (String((10 - (sum % 10)) % 10) !== code[code.length - 1]) {
      return null;
    }
    return ("00000000000000" + code).slice(-14);
  }

  // The price list as the server sends it (checkout/selectors/counter_offline.py), made searchable.
  function priceListRead(data, fetchedAt) {
    var products = new Map();
    data.products.forEach(function (row) {
      products.set(row[0], {
        id: row[0],
        name: row[1],
        price: row[2],
        taxRate: row[3],
        ageRestricted: row[4],
        deposit: row[5] || 0, // a price list from before deposits has no sixth column
      });
    });
    var codes = new Map();
    var primary = new Map(); // a code for each product, one unit first: what a carried-over line is sent with
    data.codes.forEach(function (row) {
      codes.set(row[0], { product: row[1], units: row[2] });
      if (!primary.has(row[1]) || (row[2] === 1 && codes.get(primary.get(row[1])).units !== 1)) {
        primary.set(row[1], row[0]);
      }
    });
    var scale = new Map(); // a scale label's item key: its product, and whether the label prints a price or grams
    (data.scale || []).forEach(function (row) {
      scale.set(row[0], { product: row[1], kind: row[2] });
    });
    return {
      scale: scale,
      version: data.version,
      fetchedAt: fetchedAt,
      currency: data.currency,
      locale: data.locale,
      includeTax: data.prices_include_tax,
      products: products,
      codes: codes,
      primary: primary,
    };
  }

  // Rounded half up, in whole numbers only: minor units never pass through a float fraction.
  function halfUp(numerator, denominator) {
    return Math.floor((2 * numerator + denominator) / (2 * denominator));
  }

  // A scale label as catalog.gtin.parse_variable reads it: a valid GTIN-13 (or its 14-digit form)
  // with prefix 02 or 20-29, whose first 7 digits are the item key and next 5 the value; null otherwise.
  function labelRead(raw) {
    var code = String(raw).trim();
    if (code.length === 14 && code[0] === "0") {
      code = code.slice(1);
    }
    if (!/^\d{13}$/.test(code) || codeKey(code) === null || !/^(02|2\d)/.test(code)) {
      return null;
    }
    return { key: code.slice(0, 7), value: parseInt(code.slice(7, 12), 10) };
  }

  // The label's price as catalog.selectors.label_priced works it out: printed, or its grams at the
  // price per kilogram, rounded half up; a reason instead when it cannot be sold as printed.
  function labelPrice(product, kind, value) {
    if (kind === "weight") {
      if (value <= 0) {
        return { problem: product.name + ": the scale label shows no weight (0 g). Weigh it again." };
      }
      if (product.price <= 0) {
        return { problem: product.name + " has no price per kilogram in this shop; the owner sets one first." };
      }
      return { price: halfUp(product.price * value, 1000), grams: value };
    }
    if (value <= 0) {
      return { problem: product.name + ": the scale label shows no price (0). Weigh it again." };
    }
    return { price: value, grams: null };
  }

  // The lines the counter books for one rung-up line: the product's, then its deposit's when it
  // carries one (pricing.deposit_lines_price: one deposit per unit, at the product's tax rate).
  function bookedLines(line) {
    var booked = [{ unit_price: line.unit_price, quantity: line.quantity, tax_rate: line.tax_rate }];
    if (line.deposit > 0) {
      booked.push({ unit_price: line.deposit, quantity: line.quantity, tax_rate: line.tax_rate });
    }
    return booked;
  }

  // A line's total is its unit price times its quantity; its tax is in that total or on top of it,
  // per line (a deposit line is a line of its own); the sale costs the lines' totals, plus their
  // tax when prices do not include it. Units are the products' only, as the online counter counts.
  function totals(lines, includeTax) {
    var subtotal = 0;
    var tax = 0;
    var units = 0;
    var deposit = 0;
    lines.forEach(function (line) {
      units += line.quantity;
      bookedLines(line).forEach(function (booked, index) {
        var lineTotal = booked.unit_price * booked.quantity;
        var lineTax = 0;
        if (booked.tax_rate) {
          lineTax = includeTax
            ? halfUp(lineTotal * booked.tax_rate, 10000 + booked.tax_rate)
            : halfUp(lineTotal * booked.tax_rate, 10000);
        }
        subtotal += lineTotal;
        tax += lineTax;
        if (index > 0) {
          deposit += includeTax ? lineTotal : lineTotal + lineTax;
        }
      });
    });
    return { total: includeTax ? subtotal : subtotal + tax, units: units, deposit: deposit };
  }

  function format(currency, locale) {
    return new Intl.NumberFormat(locale, { style: "currency", currency: currency });
  }

  // Decimals of the currency (EUR 2, JPY 0), as Babel knows them on the server.
  function places(currency, locale) {
    return format(currency, locale).resolvedOptions().maximumFractionDigits;
  }

  // "6,97 €" with its no-break space, as core.money.format_amount writes it.
  function money(minor, currency, locale) {
    return format(currency, locale).format(minor / Math.pow(10, places(currency, locale)));
  }

  // "10", "10,50" or "10.50" in minor units; NaN when it is not an amount of this currency.
  function parseAmount(text, decimals) {
    var value = String(text).trim().replace(",", ".");
    var pattern = decimals ? new RegExp("^\\d{1,7}(\\.\\d{0," + decimals + "})?$") : /^\d{1,9}$/;
    if (!pattern.test(value)) {
      return NaN;
    }
    var parts = value.split(".");
    var fraction = ((parts[1] || "") + "000000").slice(0, decimals);
    return parseInt(parts[0], 10) * Math.pow(10, decimals) + (fraction ? parseInt(fraction, 10) : 0);
  }

  // The next 5, 10, 20, 50 or 100 above the total, three at most.
  function quickAmounts(total, decimals) {
    var unit = Math.pow(10, decimals);
    var seen = {};
    var amounts = [];
    [5, 10, 20, 50, 100].forEach(function (step) {
      var rounded = Math.ceil(total / (step * unit)) * step * unit;
      if (rounded > total && !seen[rounded]) {
        seen[rounded] = true;
        amounts.push(rounded);
      }
    });
    return amounts
      .sort(function (a, b) {
        return a - b;
      })
      .slice(0, 3);
  }

  // A time of day in the store's time zone.
  function clock(iso, locale, timeZone) {
    return new Date(iso).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", timeZone: timeZone });
  }

  function plural(count, one, many) {
    return count + " " + (count === 1 ? one : many);
  }

  window.LingshouTill = {
    codeKey: codeKey,
    labelRead: labelRead,
    labelPrice: labelPrice,
    priceListRead: priceListRead,
    totals: totals,
    places: places,
    money: money,
    parseAmount: parseAmount,
    quickAmounts: quickAmounts,
    clock: clock,
    plural: plural,
  };
})();
