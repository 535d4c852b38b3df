// Drawing the till while it sells offline: the banner, the sale being rung up, and the sales
// waiting on the till or needing attention. counter_offline.js owns the state and the storage and
// calls render() after every change; this draws the state as it is, with textContent only (a
// product's name never becomes markup), into the elements of dashboard/_counter_offline.html.
(function () {
  "use strict";

  var till = window.LingshouTill;

  window.LingshouTillView = function (root, app) {
    var state = app.state;
    var shiftId = app.shiftId;
    var money = app.money;
    var clock = app.clock;
    var currency = app.currency;
    var totals = app.totals;
    var quickAmounts = app.quickAmounts;
    var openSale = app.openSale;
    var waitingSales = app.waitingSales;
    var needsAgeCheck = app.needsAgeCheck;
    var lineKey = app.lineKey;
    var plural = till.plural;

    function el(selector) {
      return root.querySelector(selector);
    }

    function make(tag, className, text) {
      var node = document.createElement(tag);
      if (className) {
        node.className = className;
      }
      if (text !== undefined) {
        node.textContent = text;
      }
      return node;
    }

    function renderBanner() {
      var banner = el("[data-offline-banner]");
      var waiting = waitingSales().length;
      var attention = state.sales.length - waiting;
      var headline = "";
      var detail = "";
      if (!state.reachable) {
        headline = "Offline · " + plural(waiting, "sale", "sales") + " waiting";
        detail = state.prices
          ? "Lingshou cannot be reached. Keep selling for cash: sales are kept on this till and sent when the connection is back."
          : "Lingshou cannot be reached, and this till has no price list yet: sales cannot be rung up until the connection is back.";
      } else if (state.signedOut) {
        headline = plural(waiting, "sale", "sales") + " waiting";
        detail = "This till is signed out of Lingshou: sign in again (in a new tab) to send the sales made offline.";
      } else if (waiting) {
        headline = "Back online · sending " + plural(waiting, "sale", "sales") + " made offline…";
      } else if (state.offline) {
        headline = "Back online";
        detail = "Finish this sale here: it is sent as soon as it is paid.";
      } else if (state.booked.length) {
        headline = "Back online · " + plural(state.booked.length, "sale", "sales") + " made offline booked";
        detail = "Sales " + state.booked.join(", ") + ".";
      }
      if (attention) {
        headline = headline || "Sales made offline";
        detail = (detail ? detail + " " : "") + plural(attention, "sale needs", "sales need") + " attention: see below.";
      }
      var allBooked = !attention && state.reachable && !waiting && !state.offline;
      banner.hidden = !headline;
      banner.classList.toggle("message-success", allBooked);
      banner.classList.toggle("message-warning", !allBooked);
      el("[data-offline-headline]").textContent = headline;
      el("[data-offline-detail]").textContent = detail;
    }

    function renderLines(sale) {
      var body = el("[data-offline-lines]");
      body.textContent = "";
      if (!sale.lines.length) {
        var empty = make("tr");
        var cell = make("td", "empty-state", state.prices ? "Scan the first item." : "No price list on this till yet.");
        cell.colSpan = 5;
        empty.appendChild(cell);
        body.appendChild(empty);
        return;
      }
      sale.lines.forEach(function (line, index) {
        var row = make("tr");
        row.id = "counter-offline-line-" + index;
        row.setAttribute("data-product", line.product);
        if (lineKey(line) === state.lastProduct) {
          row.setAttribute("aria-current", "true");
        }
        var name = make("td", "cell-product", line.name);
        if (line.weight_grams) {
          name.appendChild(document.createTextNode(" "));
          name.appendChild(make("span", "small muted nowrap", line.weight_grams + " g"));
        }
        if (line.label) {
          name.appendChild(make("br"));
          name.appendChild(make("code", "", line.code));
        }
        if (line.age_restricted) {
          name.appendChild(document.createTextNode(" "));
          name.appendChild(make("span", "badge badge-warning", "ID check"));
        }
        row.appendChild(name);
        var quantityCell = make("td", "num");
        var form = make("form", "row-form");
        form.setAttribute("data-offline-quantity", lineKey(line));
        var label = make("label", "visually-hidden", "Quantity of " + line.name);
        label.htmlFor = "counter-offline-qty-" + index;
        var input = make("input", "input-inline input-count");
        input.id = "counter-offline-qty-" + index;
        input.name = "quantity";
        input.value = String(line.quantity);
        input.inputMode = "numeric";
        input.autocomplete = "off";
        var set = make("button", "btn btn-small", "Set");
        set.type = "submit";
        form.appendChild(label);
        form.appendChild(input);
        form.appendChild(set);
        quantityCell.appendChild(form);
        row.appendChild(quantityCell);
        row.appendChild(make("td", "num nowrap col-price", money(line.unit_price)));
        row.appendChild(make("td", "num nowrap", money(line.unit_price * line.quantity)));
        var voidCell = make("td");
        var voidButton = make("button", "btn btn-small btn-danger", "Void");
        voidButton.type = "button";
        voidButton.setAttribute("data-offline-void", lineKey(line));
        voidButton.appendChild(make("span", "visually-hidden", " " + line.name));
        voidCell.appendChild(voidButton);
        row.appendChild(voidCell);
        body.appendChild(row);
        if (line.deposit > 0) {
          // As the online counter shows it: under its product, following its quantity, no controls.
          var deposit = make("tr", "line-deposit");
          deposit.id = "counter-offline-deposit-" + index;
          deposit.setAttribute("data-line-kind", "deposit");
          deposit.appendChild(make("td", "cell-product", "Deposit " + line.name));
          deposit.appendChild(make("td", "num", String(line.quantity)));
          deposit.appendChild(make("td", "num nowrap col-price", money(line.deposit)));
          deposit.appendChild(make("td", "num nowrap", money(line.deposit * line.quantity)));
          deposit.appendChild(make("td"));
          body.appendChild(deposit);
        }
      });
    }

    function renderSale() {
      var section = el("[data-offline-sale]");
      var shown = document.getElementById("counter-sale");
      section.hidden = !state.offline;
      if (shown) {
        shown.hidden = state.offline;
      }
      if (!state.offline) {
        return;
      }
      var sale = openSale();
      var paidBox = el("[data-offline-paid]");
      paidBox.hidden = !state.paid;
      if (state.paid) {
        el("[data-offline-paid-text]").textContent =
          "Sale paid in cash: " + money(state.paid.total) + ". Given " + money(state.paid.tendered) + ".";
        el("[data-offline-change]").textContent = "Change due: " + money(state.paid.change);
      }
      var notes = el("[data-offline-notes]");
      notes.textContent = "";
      state.notes.forEach(function (note) {
        notes.appendChild(make("li", "message message-info", note));
      });
      notes.hidden = !state.notes.length;
      el("[data-offline-prices]").textContent = state.prices
        ? "Priced from this till's price list of " + clock(state.prices.fetchedAt) + " (" + state.prices.products.size +
          " products)."
        : "";
      el("[data-offline-currency]").textContent = currency();
      el("[data-offline-title]").textContent = sale.lines.length ? "Sale" : "New sale";
      renderLines(sale);
      var sums = totals(sale);
      var hasLines = sale.lines.length > 0;
      el("[data-offline-totals]").hidden = !hasLines;
      el("[data-offline-payment]").hidden = !hasLines;
      el("[data-offline-units]").textContent = plural(sums.units, "item", "items");
      el("[data-offline-total]").textContent = money(sums.total);
      el("[data-offline-deposit-row]").hidden = !sums.deposit;
      el("[data-offline-deposit]").textContent = money(sums.deposit);
      el("[data-offline-age]").hidden = !(needsAgeCheck(sale) && !sale.age_checked);
      var quick = el("[data-offline-quick]");
      quick.textContent = "";
      if (hasLines) {
        [sums.total].concat(quickAmounts(sums.total)).forEach(function (amount, i) {
          var button = make("button", "btn btn-small", i === 0 ? "Exact " + money(amount) : money(amount));
          button.type = "submit";
          button.name = "quick";
          button.value = String(amount);
          quick.appendChild(button);
        });
      }
    }

    function actionButton(sale, action, text, extra) {
      var button = make("button", extra && extra.primary ? "btn btn-small btn-primary" : "btn btn-small", text);
      button.type = "button";
      button.dataset.offlineAction = action;
      button.dataset.sale = sale.client_id;
      if (extra && extra.index !== undefined) {
        button.dataset.index = String(extra.index);
      }
      if (extra && extra.price !== undefined) {
        button.dataset.price = String(extra.price);
      }
      if (extra && extra.deposit !== undefined) {
        button.dataset.deposit = String(extra.deposit);
      }
      if (action === "discard" || action === "remove") {
        button.className = "btn btn-small btn-danger";
      }
      return button;
    }

    function renderQueue() {
      var section = el("[data-offline-queue]");
      var list = el("[data-offline-list]");
      list.textContent = "";
      section.hidden = !state.sales.length;
      state.sales.forEach(function (sale) {
        var item = make("li", "counter-offline-item");
        item.setAttribute("data-offline-item", sale.client_id);
        var head = make("div", "cluster counter-offline-head");
        head.appendChild(make("strong", "", "Sale of " + clock(sale.made_at)));
        head.appendChild(
          make("span", "", plural(totals(sale).units, "item", "items") + " · " + money(sale.total) + " in cash")
        );
        var badge;
        if (sale === state.sending) {
          badge = make("span", "badge badge-info", "sending…");
        } else if (sale.status === "waiting") {
          badge = make("span", "badge badge-warning", "waiting to send");
        } else {
          badge = make("span", "badge badge-danger", "needs attention");
        }
        head.appendChild(badge);
        item.appendChild(head);
        item.appendChild(
          make(
            "p",
            "small muted",
            sale.lines
              .map(function (line) {
                return line.quantity + " × " + line.name;
              })
              .join(", ")
          )
        );
        if (sale.status === "attention" && sale.error) {
          item.appendChild(make("p", "message message-error", sale.error.message));
          if (sale.error.lines.length) {
            var problems = make("ul", "counter-offline-problems");
            sale.error.lines.forEach(function (problem) {
              var entry = make("li", "cluster");
              entry.appendChild(make("span", "", problem.message));
              if (problem.reason === "deposit_changed" && problem.current_deposit !== undefined) {
                entry.appendChild(
                  actionButton(sale, "redeposit", "Book with deposit " + money(problem.current_deposit), {
                    index: problem.index,
                    deposit: problem.current_deposit,
                    primary: true,
                  })
                );
              }
              if (problem.reason === "price_changed" && problem.current_price !== undefined) {
                entry.appendChild(
                  actionButton(sale, "reprice", "Book at " + money(problem.current_price), {
                    index: problem.index,
                    price: problem.current_price,
                    primary: true,
                  })
                );
              }
              entry.appendChild(actionButton(sale, "remove", "Remove the line", { index: problem.index }));
              problems.appendChild(entry);
            });
            item.appendChild(problems);
          }
          var actions = make("div", "cluster");
          if (sale.error.code === "shift_closed" && sale.shift !== shiftId) {
            actions.appendChild(actionButton(sale, "this-shift", "Book in the shift open now", { primary: true }));
          }
          if (sale.error.code === "replaced_sale_paid") {
            actions.appendChild(actionButton(sale, "on-its-own", "Book it as a sale of its own"));
          }
          if (!sale.error.lines.length && sale.error.code !== "client_id_reused") {
            actions.appendChild(actionButton(sale, "retry", "Send again"));
          }
          actions.appendChild(actionButton(sale, "discard", "Discard…"));
          item.appendChild(actions);
        }
        list.appendChild(item);
      });
    }

    return {
      make: make,
      render: function () {
        renderBanner();
        renderSale();
        renderQueue();
      },
    };
  };
})();
