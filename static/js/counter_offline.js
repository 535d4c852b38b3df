// Counter mode without a connection: the till keeps selling for cash when Lingshou cannot be reached.
//
// What the till needs is kept in the browser (IndexedDB, through the vendored idb-keyval): the
// store's price list, fetched while online and asked again every minute with its version (a 304
// costs nothing), and every sale rung up offline, under an id the till makes (a UUID). Offline
// starts when the browser says so (the offline event) or when a request of the online counter
// gets no answer (counter.js then hands its waiting scans over); the till then prices scans from
// the price list and takes cash, and each paid sale waits on the till, "not sent yet".
//
// Once Lingshou answers again, the waiting sales are sent one at a time, oldest first, and each
// is booked whole or not at all. Sending one again is harmless (the server books an id once), so
// a send without an answer is simply retried, with a growing pause (2 s up to a minute). A sale
// the server refuses (a price changed, a product gone, the shift closed...) is never dropped: it
// stays on the till as "needs attention", with the reasons and what the clerk can do about it.
//
// The sale that was open on the server when the connection dropped is carried over when every
// line of it can be priced offline; the offline sale then names it, and booking the offline sale
// cancels it in the same transaction.
(function () {
  "use strict";

  var root = document.querySelector("[data-counter-offline]");
  var kv = window.idbKeyval;
  var till = window.LingshouTill;
  if (!root || !kv || !till || !window.LingshouTillView || !window.indexedDB || !window.fetch) {
    return;
  }

  var PROBE_MS = 60000;
  var RETRY_FIRST_MS = 2000;
  var RETRY_MAX_MS = 60000;
  var MAX_QUANTITY = 999;
  var LOG_KEEP = 8;

  var db = kv.createStore("lingshou-counter", "offline");
  var merchant = root.dataset.merchant;
  var storeId = root.dataset.store;
  var shiftId = root.dataset.shift;
  var timeZone = root.dataset.timezone || undefined;
  var pricesKey = "prices:" + merchant + ":" + storeId;

  var state = {
    prices: null, // {version, fetchedAt, currency, locale, includeTax, products: Map, codes: Map, primary: Map}
    reachable: navigator.onLine !== false,
    offline: false, // selling offline: the offline sale is shown instead of the server's
    signedOut: false,
    sale: null, // the sale being rung up offline (status "open")
    sales: [], // paid offline sales of this store not booked yet, oldest first
    sending: null,
    retryMs: RETRY_FIRST_MS,
    timer: null,
    booked: [], // numbers of the sales booked since the page opened
    paid: null, // the last sale paid offline, for its change
    notes: [],
  };

  // ---------- Small helpers ----------

  function el(selector) {
    return root.querySelector(selector);
  }

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // randomUUID needs a secure context; a till on plain http in a back office still gets a v4 UUID.
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  // The cookie first: signing in again (in another tab) rotates the token the page was rendered with.
  function csrfToken() {
    var cookie = document.cookie.split("; ").find(function (pair) {
      return pair.indexOf("csrftoken=") === 0;
    });
    if (cookie) {
      return decodeURIComponent(cookie.slice("csrftoken=".length));
    }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function currency() {
    return state.prices ? state.prices.currency : "EUR";
  }

  function locale() {
    return state.prices ? state.prices.locale : "de-DE";
  }

  function money(minor) {
    return till.money(minor, currency(), locale());
  }

  function clock(iso) {
    return till.clock(iso, locale(), timeZone);
  }

  function plural(count, one, many) {
    return till.plural(count, one, many);
  }

  // ---------- Prices ----------

  // Asks for the price list with the version held: an answer of any kind means Lingshou is reachable.
  function pricesFetch() {
    var headers = {};
    if (state.prices) {
      headers["If-None-Match"] = state.prices.version;
    }
    return fetch(root.dataset.pricesUrl, {
      credentials: "same-origin",
      cache: "no-store",
      redirect: "manual",
      headers: headers,
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 403) {
        state.signedOut = true;
        return;
      }
      state.signedOut = false;
      if (response.status === 304 && state.prices) {
        state.prices.fetchedAt = new Date().toISOString();
        return kv.update(
          pricesKey,
          function (kept) {
            return kept ? Object.assign(kept, { fetchedAt: state.prices.fetchedAt }) : kept;
          },
          db
        );
      }
      if (!response.ok) {
        throw new Error("price list: " + response.status);
      }
      return response.json().then(function (data) {
        var fetchedAt = new Date().toISOString();
        state.prices = till.priceListRead(data, fetchedAt);
        return kv.set(pricesKey, { data: data, fetchedAt: fetchedAt }, db);
      });
    });
  }

  // ---------- Sales ----------

  function saleKey(sale) {
    return "sale:" + sale.client_id;
  }

  function saleSave(sale) {
    return kv.set(saleKey(sale), sale, db);
  }

  function saleNew() {
    return {
      client_id: uuid(),
      merchant: merchant,
      store: storeId,
      shift: shiftId,
      url: root.dataset.salesUrl,
      status: "open",
      started_at: new Date().toISOString(),
      lines: [],
      age_checked: false,
      replaces: null,
      seq: 0,
    };
  }

  // What the server will charge: the price list's tax rule when the sale was paid, or now.
  function totals(sale) {
    var includeTax = sale.prices_include_tax !== undefined ? sale.prices_include_tax : state.prices.includeTax;
    return till.totals(sale.lines, includeTax);
  }

  function needsAgeCheck(sale) {
    return sale.lines.some(function (line) {
      return line.age_restricted;
    });
  }

  function lineFor(product, code, quantity) {
    return {
      product: product.id,
      code: code,
      name: product.name,
      unit_price: product.price,
      tax_rate: product.taxRate,
      age_restricted: product.ageRestricted,
      deposit: product.deposit,
      quantity: quantity,
    };
  }

  // What names a line for the quantity and void controls: its product, or its scale label.
  function lineKey(line) {
    return line.label ? "label:" + line.code : String(line.product);
  }

  function openSale() {
    if (!state.sale) {
      state.sale = saleNew();
    }
    return state.sale;
  }

  // Adds one scan to the offline sale; a problem is logged, as the online counter logs it.
  function scan(raw) {
    var code = String(raw).trim();
    if (!code) {
      return;
    }
    var key = till.codeKey(code);
    var found = key && state.prices.codes.get(key);
    var product = found && state.prices.products.get(found.product);
    // Codes that name a product exactly come first, as in the online lookup; then scale labels.
    if (!product && labelLine(code, 1)) {
      labelScan(code);
      return;
    }
    if (!product) {
      logProblem(
        code,
        key || /^[Ll]\d+$/.test(code)
          ? "Not in this till's price list: sell it when the connection is back."
          : "Not a barcode this till can price offline."
      );
      return;
    }
    var sale = openSale();
    var line = sale.lines.find(function (each) {
      return each.product === product.id && !each.label;
    });
    if (line) {
      if (line.quantity + found.units > MAX_QUANTITY) {
        logProblem(code, product.name + ": at most " + MAX_QUANTITY + " on one line.");
        return;
      }
      line.quantity += found.units;
    } else {
      line = lineFor(product, code, found.units);
      sale.lines.push(line);
    }
    state.paid = null;
    state.lastProduct = lineKey(line);
    setStatus("Added offline: " + product.name);
    saleSave(sale);
    render();
  }

  // The line of a scale label this till's price list knows, priced from it ({problem} when it
  // cannot be sold as printed); null for a code that is no such label.
  function labelLine(code, quantity) {
    var label = till.labelRead(code);
    var keyed = label && state.prices.scale && state.prices.scale.get(label.key);
    var product = keyed && state.prices.products.get(keyed.product);
    if (!product) {
      return null;
    }
    var priced = till.labelPrice(product, keyed.kind, label.value);
    if (priced.problem) {
      return priced;
    }
    var line = lineFor(product, code, quantity);
    line.label = true;
    line.unit_price = priced.price;
    line.weight_grams = priced.grams;
    return line;
  }

  // One line per label, priced from it; the same label scanned again adds one, as online.
  function labelScan(code) {
    var fresh = labelLine(code, 1);
    if (fresh.problem) {
      logProblem(code, fresh.problem);
      return;
    }
    var product = state.prices.products.get(fresh.product);
    var sale = openSale();
    var line = sale.lines.find(function (each) {
      return each.label && each.code === code;
    });
    if (line) {
      if (line.quantity + 1 > MAX_QUANTITY) {
        logProblem(code, product.name + ": at most " + MAX_QUANTITY + " on one line.");
        return;
      }
      line.quantity += 1;
    } else {
      line = fresh;
      sale.lines.push(line);
    }
    state.paid = null;
    state.lastProduct = lineKey(line);
    setStatus("Added offline: " + product.name);
    saleSave(sale);
    render();
  }

  function logProblem(code, text) {
    var list = document.getElementById("counter-scan-log");
    if (!list) {
      return;
    }
    var item = view.make("li", "message message-error");
    item.appendChild(document.createTextNode("Not added: "));
    item.appendChild(view.make("code", "", code));
    item.appendChild(document.createTextNode(". " + text));
    list.insertBefore(item, list.firstChild);
    while (list.children.length > LOG_KEEP) {
      list.removeChild(list.lastChild);
    }
    list.hidden = false;
  }

  function setStatus(text) {
    var status = document.getElementById("counter-scan-status");
    if (status) {
      status.textContent = text;
    }
  }

  function focusScan() {
    var field = document.querySelector("[data-counter-scan-input]");
    if (field) {
      field.focus();
    }
  }

  // ---------- Going offline, coming back ----------

  // The server's sale as the page shows it: its lines, if every one of them can be priced offline.
  function carryOver(sale) {
    var shown = document.getElementById("counter-sale");
    if (!shown || !shown.getAttribute("data-order")) {
      return;
    }
    var number = ("000000" + shown.getAttribute("data-order")).slice(-6);
    var rows = shown.querySelectorAll("tbody tr[id^='counter-line-']");
    if (!rows.length) {
      return;
    }
    if (shown.querySelector("[data-counter-reader]")) {
      state.notes.push(
        "Sale " + number + " is on the card reader: it is booked if the card was charged. Ring up the next shopper here."
      );
      return;
    }
    var lines = [];
    var missing = [];
    Array.prototype.forEach.call(rows, function (row) {
      if (row.getAttribute("data-line-kind") === "deposit") {
        return; // it follows its product line, which brings it again offline
      }
      var product = state.prices.products.get(Number(row.getAttribute("data-product")));
      var field = row.querySelector("[data-counter-quantity]");
      var quantity = field ? parseInt(field.defaultValue, 10) : NaN;
      var printed = row.querySelector(".cell-product code");
      if (product && printed) {
        // A scale label's line goes over as that label, priced from it, never as the product's own code.
        var labelled = quantity > 0 && labelLine(printed.textContent.trim(), quantity);
        if (labelled && !labelled.problem) {
          lines.push(labelled);
        } else {
          missing.push(product.name);
        }
        return;
      }
      var code = product && state.prices.primary.get(product.id);
      if (product && code && quantity > 0) {
        lines.push(lineFor(product, code, quantity));
      } else {
        var cell = row.querySelector(".cell-product");
        missing.push(cell ? cell.firstChild.textContent.trim() : "an item");
      }
    });
    if (missing.length) {
      state.notes.push(
        "Sale " + number + " stays on Lingshou: this till cannot price " + missing.join(", ") +
          " offline. Finish it when the connection is back, or ring its items up again here."
      );
      return;
    }
    sale.lines = lines;
    sale.replaces = Number(shown.getAttribute("data-order"));
    state.notes.push(
      "The items of sale " + number + " were carried over; that sale is cancelled when this one is booked."
    );
  }

  function goOffline(handed) {
    state.reachable = false;
    if (!state.offline) {
      state.offline = true;
      state.notes = [];
      if (!state.sale || !state.sale.lines.length) {
        state.sale = saleNew();
        carryOver(state.sale);
      }
    }
    if (handed) {
      handed.codes.forEach(scan);
      if (handed.actions) {
        state.notes.push(
          plural(handed.actions, "change", "changes") +
            " to the sale (a quantity, a void or a payment) did not reach Lingshou: do it again here."
        );
      }
    }
    saleSave(state.sale);
    render();
    schedule();
  }

  // Back to the server's sale once nothing is left half rung up or waiting on the till: a sale
  // the offline one took over is cancelled only when that is booked, and must not show before.
  function leaveOffline() {
    if (!state.offline || !state.reachable || state.sending || waitingSales().length) {
      return;
    }
    if (state.sale && state.sale.lines.length) {
      return;
    }
    fetch(root.dataset.saleUrl, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("sale: " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html;
        var fresh = template.content.querySelector("#counter-sale");
        var current = document.getElementById("counter-sale");
        if (fresh && current) {
          current.parentNode.replaceChild(fresh, current);
          if (window.htmx) {
            window.htmx.process(fresh);
          }
        }
        if (state.sale && !state.sale.lines.length) {
          kv.del(saleKey(state.sale), db);
          state.sale = null;
        }
        state.offline = false;
        state.notes = [];
        setStatus("");
        render();
      })
      .catch(function () {
        state.reachable = false;
        schedule();
      });
  }

  function reachable() {
    var was = state.reachable;
    state.reachable = true;
    state.retryMs = RETRY_FIRST_MS;
    if (!was || state.offline) {
      render();
    }
  }

  function unreachable() {
    state.reachable = false;
    if (!state.prices) {
      render(); // nothing to price from: the online counter keeps trying on its own
      return;
    }
    goOffline(null);
  }

  // One timer: while unreachable, asks again with a growing pause; while reachable, refreshes
  // the price list every minute. Either way it then sends what waits.
  function schedule(delay) {
    window.clearTimeout(state.timer);
    var wait = delay !== undefined ? delay : state.reachable ? PROBE_MS : state.retryMs;
    state.timer = window.setTimeout(tick, wait);
  }

  function tick() {
    if (navigator.onLine === false) {
      unreachable(); // no request can go out; the online event asks again at once
      return;
    }
    pricesFetch()
      .then(function () {
        if (navigator.onLine === false) {
          throw new Error("offline meanwhile"); // the answer came just before the connection went
        }
        reachable();
        pump();
      })
      .catch(function () {
        state.retryMs = Math.min(state.retryMs * 2, RETRY_MAX_MS);
        unreachable();
      })
      .then(function () {
        schedule();
      });
  }

  // ---------- Sending ----------

  function payload(sale) {
    return {
      client_id: sale.client_id,
      lines: sale.lines.map(function (line) {
        // The deposit as the till charged it, so that a deposit changed meanwhile is named on
        // its line; a line kept from before deposits has none and leaves it to the total.
        var sent = { code: line.code, quantity: line.quantity, unit_price: line.unit_price };
        if (line.deposit !== undefined) {
          sent.deposit = line.deposit;
        }
        return sent;
      }),
      total: sale.total,
      tendered: sale.tendered,
      made_at: sale.made_at,
      age_checked: sale.age_checked,
      replaces: sale.replaces,
    };
  }

  function waitingSales() {
    return state.sales.filter(function (sale) {
      return sale.status === "waiting";
    });
  }

  function forget(sale) {
    state.sales = state.sales.filter(function (each) {
      return each !== sale;
    });
    return kv.del(saleKey(sale), db);
  }

  function pump() {
    if (state.sending || state.signedOut || !state.reachable) {
      return; // the timer's next successful contact sends them
    }
    var sale = waitingSales()[0];
    if (!sale) {
      leaveOffline();
      return;
    }
    state.sending = sale;
    render();
    fetch(sale.url, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload(sale)),
    })
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 403) {
          state.signedOut = true;
          return null;
        }
        if (response.status >= 500) {
          throw new Error("server: " + response.status);
        }
        return response.text().then(function (text) {
          var body = null;
          try {
            body = JSON.parse(text);
          } catch (error) {
            body = null;
          }
          if (response.ok && body && body.order) {
            state.booked.push(body.order.number);
            return forget(sale);
          }
          sale.status = "attention";
          sale.error = (body && body.error) || {
            code: "refused",
            message: "Lingshou refused this sale (error " + response.status + ").",
            lines: [],
          };
          sale.error.lines = sale.error.lines || [];
          return saleSave(sale);
        });
      })
      .then(function () {
        state.sending = null;
        if (state.signedOut) {
          render();
          schedule(state.retryMs);
          return;
        }
        reachable();
        render();
        pump(); // the next one, or back to the server's sale when none is left
      })
      .catch(function () {
        // No answer: the sale stays waiting and goes again after the pause (a second booking
        // is impossible: the server books an id once).
        state.sending = null;
        state.retryMs = Math.min(state.retryMs * 2, RETRY_MAX_MS);
        unreachable();
        schedule();
      });
  }

  // ---------- What the clerk does ----------

  function pay(tendered) {
    var sale = state.sale;
    var error = el("[data-offline-error]");
    error.hidden = true;
    if (!sale || !sale.lines.length) {
      return;
    }
    if (needsAgeCheck(sale) && !sale.age_checked) {
      error.textContent = "This sale has age-restricted items: check the shopper's ID first.";
      error.hidden = false;
      return;
    }
    var due = totals(sale).total;
    if (isNaN(tendered)) {
      error.textContent = "Enter the cash the shopper gave, like 10 or 10,50.";
      error.hidden = false;
      return;
    }
    if (tendered < due) {
      error.textContent = "Not enough cash: " + money(tendered) + " given, " + money(due) + " due.";
      error.hidden = false;
      return;
    }
    sale.status = "waiting";
    sale.total = due;
    sale.tendered = tendered;
    sale.change = tendered - due;
    sale.made_at = new Date().toISOString();
    sale.seq = Date.now();
    sale.prices_include_tax = state.prices.includeTax;
    state.sales.push(sale);
    state.paid = sale;
    state.sale = null;
    state.notes = [];
    setStatus("");
    el("#counter-offline-tendered").value = "";
    saleSave(sale).then(pump);
    render();
    focusScan();
  }

  // By product, not by place: a change and a submit of the same field both arrive, and must not
  // take away two lines where one was meant.
  function quantitySet(key, text) {
    var sale = state.sale;
    var index = sale.lines.findIndex(function (line) {
      return lineKey(line) === key;
    });
    if (index < 0) {
      return;
    }
    var quantity = Number(String(text).trim());
    var error = el("[data-offline-error]");
    if (!/^\d+$/.test(String(text).trim()) || quantity > MAX_QUANTITY) {
      error.textContent = "Choose a quantity from 0 to " + MAX_QUANTITY + ".";
      error.hidden = false;
      return;
    }
    error.hidden = true;
    if (quantity === 0) {
      sale.lines.splice(index, 1);
    } else {
      sale.lines[index].quantity = quantity;
    }
    saleSave(sale);
    render();
  }

  function saleCancel() {
    if (state.sale) {
      kv.del(saleKey(state.sale), db);
    }
    state.sale = saleNew();
    state.notes = [];
    state.paid = null;
    render();
    leaveOffline();
    focusScan();
  }

  // A fix of a sale that needs attention: it waits again once no refused line is left.
  function fixed(sale, index, removed) {
    var problems = (sale.error && sale.error.lines) || [];
    problems = problems.filter(function (problem) {
      return problem.index !== index;
    });
    if (removed) {
      problems.forEach(function (problem) {
        if (problem.index > index) {
          problem.index -= 1;
        }
      });
    }
    sale.total = totals(sale).total;
    sale.change = sale.tendered - sale.total;
    if (sale.change < 0) {
      sale.error = {
        code: "insufficient_cash",
        message:
          "The shopper gave " + money(sale.tendered) + "; the sale now costs " + money(sale.total) +
          ". Remove a line, or discard the sale.",
        lines: problems,
      };
    } else if (problems.length) {
      sale.error.lines = problems;
    } else {
      sale.status = "waiting";
      sale.error = null;
    }
  }

  function act(button) {
    var sale = state.sales.find(function (each) {
      return each.client_id === button.dataset.sale;
    });
    if (!sale || sale === state.sending) {
      return;
    }
    var index = Number(button.dataset.index);
    var action = button.dataset.offlineAction;
    if (action === "discard") {
      if (window.confirm("Discard this sale? It is not booked: the cash stays in the drawer, the stock is not moved.")) {
        forget(sale).then(render);
      }
      return;
    }
    if (action === "reprice") {
      sale.lines[index].unit_price = Number(button.dataset.price);
      fixed(sale, index, false);
    } else if (action === "redeposit") {
      sale.lines[index].deposit = Number(button.dataset.deposit);
      fixed(sale, index, false);
    } else if (action === "remove") {
      sale.lines.splice(index, 1);
      if (!sale.lines.length) {
        if (window.confirm("That was the sale's only line: discard the sale?")) {
          forget(sale).then(render);
        }
        return;
      }
      fixed(sale, index, true);
    } else if (action === "this-shift") {
      sale.shift = shiftId;
      sale.url = root.dataset.salesUrl;
      sale.status = "waiting";
      sale.error = null;
    } else if (action === "on-its-own") {
      sale.replaces = null;
      sale.status = "waiting";
      sale.error = null;
    } else if (action === "retry") {
      sale.status = "waiting";
      sale.error = null;
    }
    saleSave(sale).then(function () {
      render();
      pump();
    });
  }

  // ---------- Drawing (counter_offline_view.js) ----------

  var view = window.LingshouTillView(root, {
    state: state,
    shiftId: shiftId,
    money: money,
    clock: clock,
    currency: currency,
    totals: totals,
    quickAmounts: function (total) {
      return till.quickAmounts(total, till.places(currency(), locale()));
    },
    openSale: openSale,
    waitingSales: waitingSales,
    needsAgeCheck: needsAgeCheck,
    lineKey: lineKey,
  });

  function render() {
    view.render();
  }

  // ---------- Events ----------

  // Window, capture phase: ahead of counter.js, which must not send scans while the till is offline.
  window.addEventListener(
    "keydown",
    function (event) {
      var field = event.target;
      if (!state.offline || event.key !== "Enter" || !(field instanceof HTMLInputElement)) {
        return;
      }
      if (!field.hasAttribute("data-counter-scan-input")) {
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
      var code = field.value;
      field.value = "";
      scan(code);
    },
    true
  );

  window.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!state.offline || !form.hasAttribute("data-counter-scan")) {
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
      var field = form.querySelector("[data-counter-scan-input]");
      var code = field.value;
      field.value = "";
      scan(code);
      focusScan();
    },
    true
  );

  // The offline sale's own forms; lingshou.js has asked data-confirm questions before this runs.
  root.addEventListener("submit", function (event) {
    var form = event.target;
    event.preventDefault();
    if (form.hasAttribute("data-offline-cash")) {
      var submitter = event.submitter;
      if (submitter && submitter.name === "quick") {
        pay(Number(submitter.value));
      } else {
        pay(till.parseAmount(form.querySelector("[name=tendered]").value, till.places(currency(), locale())));
      }
    } else if (form.hasAttribute("data-offline-age")) {
      state.sale.age_checked = true;
      saleSave(state.sale);
      render();
      focusScan();
    } else if (form.hasAttribute("data-offline-cancel")) {
      saleCancel();
    } else if (form.hasAttribute("data-offline-quantity")) {
      quantitySet(form.getAttribute("data-offline-quantity"), form.querySelector("input").value);
      focusScan();
    }
  });

  // A quantity typed and left (a phone shows no Set button) counts as if Set were pressed.
  root.addEventListener("change", function (event) {
    var form = event.target.closest("[data-offline-quantity]");
    if (form) {
      quantitySet(form.getAttribute("data-offline-quantity"), event.target.value);
    }
  });

  root.addEventListener("click", function (event) {
    var voidButton = event.target.closest("[data-offline-void]");
    if (voidButton) {
      quantitySet(voidButton.getAttribute("data-offline-void"), "0");
      focusScan();
      return;
    }
    var action = event.target.closest("[data-offline-action]");
    if (action) {
      act(action);
    }
  });

  // counter.js got no answer: take over its waiting scans (and say which changes must be redone).
  document.addEventListener("counter:unreachable", function (event) {
    if (!state.prices) {
      unreachable();
      return; // nothing to price from: counter.js keeps its queue and tries again
    }
    event.preventDefault();
    var handed = { codes: [], actions: 0 };
    event.detail.queue.forEach(function (item) {
      if (item.code !== undefined) {
        handed.codes.push(item.code);
      } else {
        handed.actions += 1;
      }
    });
    goOffline(handed);
  });

  window.addEventListener("offline", function () {
    unreachable();
    schedule();
  });

  window.addEventListener("online", function () {
    state.retryMs = RETRY_FIRST_MS;
    schedule(0);
  });

  // Leaving while offline loses the till's page until Lingshou answers again (the sales themselves are kept).
  window.addEventListener("beforeunload", function (event) {
    if (state.offline && !state.reachable) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // ---------- Start ----------

  Promise.all([kv.get(pricesKey, db), kv.values(db)])
    .then(function (found) {
      var kept = found[0];
      if (kept && kept.data) {
        state.prices = till.priceListRead(kept.data, kept.fetchedAt);
      }
      found[1].forEach(function (sale) {
        if (!sale || sale.merchant !== merchant || sale.store !== storeId) {
          return;
        }
        if (sale.status === "open") {
          if (sale.lines.length && !state.sale) {
            state.sale = sale;
          } else {
            kv.del(saleKey(sale), db);
          }
        } else {
          state.sales.push(sale);
        }
      });
      state.sales.sort(function (a, b) {
        return a.seq - b.seq;
      });
      if (state.sale) {
        // A sale rung up offline was not finished before the page closed: finish it first.
        state.offline = true;
        state.notes.push("This sale was rung up offline and not paid yet: finish or cancel it.");
      }
      render();
      if (state.reachable) {
        tick();
      } else {
        unreachable();
        schedule();
      }
    })
    .catch(function () {
      // No IndexedDB (a private window that forbids it): the online counter works as before.
      root.hidden = true;
    });
})();
