// Charts drawn from the tables behind them (templates/components/chart.html), with uPlot.
//
// Progressive enhancement: <figure class="chart" data-chart="line|bar|heatmap"> holds a
// <table>, and the table IS the data. Without JavaScript the table is what people see. With it,
// this script reads the table, draws the picture above it (hidden from screen readers, which
// read the table instead), folds the table away visually and adds a "Show table" button.
//
// The table's cells carry their numbers in data-value (plain, dot-decimal; the cell's text is
// formatted for people in the store's locale); the first column is the x axis: a <time
// datetime> for line charts, a label for bars and the heatmap's rows. Figures that arrive with
// htmx are drawn on htmx:load; a chart taken out of the page is destroyed with it.
//
// Strict CSP: no inline script or style attributes. uPlot and this script size elements through
// the CSSOM (element.style.width = ...), which the policy allows; colours come from
// static/css/charts.css's custom properties.
(function () {
  "use strict";

  var charts = new WeakMap(); // figure -> {plot, observer}
  var SERIES_COLOURS = 6;
  var HEAT_STEPS = 6;
  var PHONE_WIDTH = 480;

  function cssVar(figure, name) {
    return window.getComputedStyle(figure).getPropertyValue(name).trim();
  }

  function numberOrNull(text) {
    if (text === undefined || text === null || text.trim() === "") {
      return null;
    }
    var value = Number(text);
    return Number.isFinite(value) ? value : null;
  }

  // {columns: [heading, ...], rows: [{label, key, values: [number|null], texts: [string]}]}
  function readTable(table) {
    var columns = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    var rows = [];
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      var head = tr.querySelector("th");
      var cells = tr.querySelectorAll("td[data-value]");
      if (!head || !cells.length) {
        return; // the "no figures" row
      }
      var time = head.querySelector("time");
      rows.push({
        label: head.textContent.trim(),
        key: time ? time.getAttribute("datetime") : head.dataset.key || head.textContent.trim(),
        values: Array.prototype.map.call(cells, function (td) {
          return numberOrNull(td.dataset.value);
        }),
        texts: Array.prototype.map.call(cells, function (td) {
          return td.textContent.trim();
        }),
      });
    });
    return { columns: columns, rows: rows };
  }

  // Money in the store's currency and locale ("1.234 €"), else a plain number; compact on axes.
  function formatters(figure) {
    var locale = (figure.dataset.locale || "de_DE").replace("_", "-");
    var options = figure.dataset.currency ? { style: "currency", currency: figure.dataset.currency } : {};
    var full, axis;
    try {
      full = new Intl.NumberFormat(locale, options);
      axis = new Intl.NumberFormat(locale, Object.assign({ notation: "compact", maximumFractionDigits: 1 }, options));
    } catch (error) {
      full = new Intl.NumberFormat("de-DE");
      axis = full;
    }
    return {
      value: function (v) {
        return v === null || v === undefined ? "–" : full.format(v);
      },
      axis: function (v) {
        return axis.format(v);
      },
    };
  }

  function seriesColour(figure, index) {
    return cssVar(figure, "--chart-series-" + ((index % SERIES_COLOURS) + 1));
  }

  function axisOptions(figure, extra) {
    var base = {
      stroke: cssVar(figure, "--chart-axis"),
      grid: { stroke: cssVar(figure, "--chart-grid"), width: 1 },
      ticks: { stroke: cssVar(figure, "--chart-grid"), width: 1 },
    };
    return Object.assign(base, extra);
  }

  // A time series; the second and later columns (the comparison) are dashed as well as coloured.
  function lineOptions(figure, data, width, format) {
    var zone = figure.dataset.timeZone;
    var series = [{ label: data.columns[0] || "Time", value: "{DD} {MMM} {YYYY} {HH}:{mm}" }];
    data.columns.slice(1).forEach(function (name, index) {
      series.push({
        label: name,
        stroke: seriesColour(figure, index),
        width: index === 0 ? 2 : 1.5,
        dash: index === 0 ? undefined : [6, 4],
        points: { show: false },
        value: function (u, v) {
          return format.value(v);
        },
      });
    });
    var xs = data.rows.map(function (row) {
      return Date.parse(row.key) / 1000;
    });
    return {
      opts: {
        width: width,
        height: Number(figure.dataset.height) || 240,
        tzDate: zone
          ? function (ts) {
              return window.uPlot.tzDate(new Date(ts * 1000), zone);
            }
          : undefined,
        series: series,
        scales: { y: { range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.05 : 1]; } } },
        axes: [axisOptions(figure, { space: 56, values: timeAxisValues(zone || undefined) }), axisOptions(figure, { size: 56, values: function (u, splits) { return splits.map(format.axis); } })],
      },
      data: [xs].concat(columnsOf(data)),
    };
  }

  // Category labels measured in uPlot's axis font (12px), so that the axis fits its longest
  // label plus the tick marks (10 px) and the gap to them (5 px), and longer ones are cut with "…".
  var AXIS_EXTRA = 28;
  var measure = document.createElement("canvas").getContext("2d");
  function textWidth(text) {
    measure.font = "12px " + (window.getComputedStyle(document.body).fontFamily || "sans-serif");
    return measure.measureText(text).width;
  }
  function fitLabel(text, room) {
    if (textWidth(text) <= room) {
      return text;
    }
    var cut = text;
    while (cut.length > 1 && textWidth(cut + "…") > room) {
      cut = cut.slice(0, -1);
    }
    return cut.trimEnd() + "…";
  }
  function labelWidth(values) {
    var widest = (values || []).reduce(function (most, text) {
      return Math.max(most, textWidth(String(text)));
    }, 0);
    return Math.ceil(widest) + AXIS_EXTRA;
  }

  // Dates on the time axis in the page's language and the store's time zone ("19 Mar", "14:00").
  function timeAxisValues(zone) {
    var lang = document.documentElement.lang || "en";
    var locale = lang === "en" ? "en-GB" : lang;
    var days = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", timeZone: zone });
    var hours = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", timeZone: zone });
    return function (u, splits, axisIdx, space, increment) {
      var format = increment >= 86400 ? days : hours;
      return splits.map(function (ts) {
        return format.format(new Date(ts * 1000));
      });
    };
  }

  function columnsOf(data) {
    var count = data.columns.length - 1;
    var out = [];
    for (var i = 0; i < count; i++) {
      out.push(
        data.rows.map(function (row) {
          return row.values[i] === undefined ? null : row.values[i];
        })
      );
    }
    return out;
  }

  // Horizontal bars, one row a category: long names stay readable on a phone. Two value
  // columns (a figure and its comparison) sit side by side; further columns stay in the table.
  function barOptions(figure, data, width, format) {
    var labels = data.rows.map(function (row) {
      return row.label;
    });
    var values = columnsOf(data).slice(0, 2);
    var series = [{ label: data.columns[0] || "", value: function (u, i) { return i === null ? "–" : labels[i]; } }];
    values.forEach(function (column, index) {
      series.push({
        label: data.columns[index + 1],
        fill: seriesColour(figure, index),
        stroke: seriesColour(figure, index),
        width: 0,
        points: { show: false },
        paths: window.uPlot.paths.bars({ size: [values.length > 1 ? 0.4 : 0.7, 40], align: values.length > 1 ? (index === 0 ? -1 : 1) : 0 }),
        value: function (u, v) {
          return format.value(v);
        },
      });
    });
    var room = (width < PHONE_WIDTH ? 130 : 240) - AXIS_EXTRA;
    var fitted = labels.map(function (label) {
      return fitLabel(label, room);
    });
    return {
      opts: {
        width: width,
        height: Math.max(120, labels.length * (values.length > 1 ? 36 : 28) + 48),
        series: series,
        cursor: { points: { show: false } },
        scales: {
          // Vertical, first row at the top, as in the table.
          x: { time: false, ori: 1, dir: -1, range: [-0.5, labels.length - 0.5] },
          y: { ori: 0, range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.05 : 1]; } },
        },
        axes: [
          axisOptions(figure, {
            side: 3,
            size: function (u, values) {
              return labelWidth(values);
            },
            grid: { show: false },
            splits: function () { return labels.map(function (label, i) { return i; }); },
            values: function (u, splits) {
              return splits.map(function (i) {
                return fitted[i] || "";
              });
            },
          }),
          axisOptions(figure, { side: 2, space: 64, values: function (u, splits) { return splits.map(format.axis); } }),
        ],
      },
      data: [labels.map(function (label, i) { return i; })].concat(values),
    };
  }

  // Rows (weekdays) by columns (hours); cells drawn in a draw hook, coloured by value on a
  // six-step ramp whose swatches and bounds are written out below the chart as text.
  function heatmapOptions(figure, data, width, format, readout) {
    var hours = data.columns.slice(1);
    var days = data.rows.map(function (row) { return row.label; });
    var ramp = [];
    for (var s = 0; s < HEAT_STEPS; s++) {
      ramp.push(cssVar(figure, "--chart-heat-" + s));
    }
    var all = [];
    data.rows.forEach(function (row) {
      row.values.forEach(function (v) {
        if (v !== null) { all.push(v); }
      });
    });
    var min = all.length ? Math.min.apply(null, all) : 0;
    var max = all.length ? Math.max.apply(null, all) : 0;
    function step(v) {
      return max === min ? HEAT_STEPS - 1 : Math.min(HEAT_STEPS - 1, Math.floor(((v - min) / (max - min)) * HEAT_STEPS));
    }
    function drawCells(u) {
      var ctx = u.ctx;
      ctx.save();
      data.rows.forEach(function (row, r) {
        row.values.forEach(function (v, c) {
          if (v === null) { return; }
          var x0 = u.valToPos(c - 0.5, "x", true), x1 = u.valToPos(c + 0.5, "x", true);
          var y0 = u.valToPos(r - 0.5, "y", true), y1 = u.valToPos(r + 0.5, "y", true);
          ctx.fillStyle = ramp[step(v)];
          ctx.fillRect(Math.min(x0, x1) + 1, Math.min(y0, y1) + 1, Math.abs(x1 - x0) - 1, Math.abs(y1 - y0) - 1);
        });
      });
      ctx.restore();
    }
    function showCell(u) {
      var left = u.cursor.left, top = u.cursor.top;
      if (left === undefined || left < 0 || top < 0) { readout.textContent = ""; return; }
      var c = Math.round(u.posToVal(left, "x")), r = Math.round(u.posToVal(top, "y"));
      var row = data.rows[r];
      readout.textContent = row && c >= 0 && c < hours.length ? row.label + " " + hours[c] + ": " + (row.texts[c] || "–") : "";
    }
    var every = width < PHONE_WIDTH ? 3 : 1;
    return {
      opts: {
        width: width,
        height: days.length * 30 + 40,
        legend: { show: false },
        cursor: { points: { show: false }, x: false, y: false },
        series: [{}, { label: data.columns[0], paths: function () { return null; }, points: { show: false } }],
        scales: {
          x: { time: false, range: [-0.5, hours.length - 0.5] },
          y: { dir: -1, range: [-0.5, days.length - 0.5] },
        },
        axes: [
          axisOptions(figure, {
            grid: { show: false },
            splits: function () { return hours.map(function (h, i) { return i; }).filter(function (i) { return i % every === 0; }); },
            values: function (u, splits) { return splits.map(function (i) { return hours[i]; }); },
          }),
          axisOptions(figure, {
            size: 48,
            grid: { show: false },
            splits: function () { return days.map(function (d, i) { return i; }); },
            values: function (u, splits) { return splits.map(function (i) { return days[i]; }); },
          }),
        ],
        hooks: { draw: [drawCells], setCursor: [showCell] },
      },
      data: [hours.map(function (h, i) { return i; }), hours.map(function () { return null; })],
      scale: { min: format.value(min), max: format.value(max) },
    };
  }

  function heatmapScale(figure, bounds) {
    var scale = document.createElement("p");
    scale.className = "chart-scale";
    scale.setAttribute("aria-hidden", "true");
    scale.appendChild(document.createTextNode(bounds.min + " "));
    for (var s = 0; s < HEAT_STEPS; s++) {
      var swatch = document.createElement("span");
      swatch.className = "chart-swatch chart-swatch-" + s;
      scale.appendChild(swatch);
    }
    scale.appendChild(document.createTextNode(" " + bounds.max));
    return scale;
  }

  function draw(figure) {
    if (charts.has(figure) || !window.uPlot) {
      return;
    }
    var table = figure.querySelector("table");
    var kind = figure.dataset.chart;
    var data = table ? readTable(table) : null;
    if (!data || !data.rows.length || data.columns.length < 2 || ["line", "bar", "heatmap"].indexOf(kind) < 0) {
      return; // nothing to draw: the table (with its "no figures" row) says so
    }
    var plotBox = document.createElement("div");
    plotBox.className = "chart-plot";
    // The picture repeats the table, which screen readers read instead.
    plotBox.setAttribute("aria-hidden", "true");
    var wrap = table.closest(".chart-table") || table;
    wrap.before(plotBox);
    // Fold the table before the width is read: one layout of a long table, not two.
    foldTable(figure, wrap);

    var width = Math.max(200, plotBox.clientWidth || figure.clientWidth);
    var format = formatters(figure);
    var built;
    if (kind === "line") {
      built = lineOptions(figure, data, width, format);
      if (built.data[0].some(isNaN)) {
        // A row without a readable instant: the table alone is right, a picture would not be.
        plotBox.remove();
        figure.querySelector(".chart-toggle").remove();
        wrap.classList.remove("visually-hidden");
        return;
      }
    } else if (kind === "bar") {
      built = barOptions(figure, data, width, format);
    } else {
      var readout = document.createElement("p");
      readout.className = "chart-readout";
      readout.setAttribute("aria-hidden", "true");
      built = heatmapOptions(figure, data, width, format, readout);
      plotBox.after(readout);
      readout.after(heatmapScale(figure, built.scale));
    }
    var plot = new window.uPlot(built.opts, built.data, plotBox);
    plotBox.dataset.drawn = kind;

    // Follow the page's width (a phone turned, a sidebar folded) without redrawing from the table.
    var lastWidth = width;
    var observer = new ResizeObserver(function () {
      var next = Math.max(200, plotBox.clientWidth);
      if (Math.abs(next - lastWidth) > 4) {
        lastWidth = next;
        plot.setSize({ width: next, height: built.opts.height });
      }
    });
    observer.observe(plotBox);
    charts.set(figure, { plot: plot, observer: observer });
  }

  // The table folds away visually behind a "Show table" button; lingshou.css's visually-hidden
  // keeps it in the accessibility tree, so screen readers always read it.
  function foldTable(figure, wrap) {
    if (!wrap.id) {
      wrap.id = (figure.id || "chart") + "-table";
    }
    wrap.classList.add("visually-hidden");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-small chart-toggle";
    button.textContent = "Show table";
    button.setAttribute("aria-controls", wrap.id);
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", function () {
      var folded = wrap.classList.toggle("visually-hidden");
      button.textContent = folded ? "Show table" : "Hide table";
      button.setAttribute("aria-expanded", folded ? "false" : "true");
    });
    wrap.before(button);
  }

  function destroy(figure) {
    var chart = charts.get(figure);
    if (chart) {
      chart.observer.disconnect();
      chart.plot.destroy();
      charts.delete(figure);
    }
  }

  function drawAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("figure.chart[data-chart]")) {
      draw(scope);
    }
    scope.querySelectorAll("figure.chart[data-chart]").forEach(draw);
  }

  // Deferred: the document is parsed when this runs.
  drawAll(document);
  // htmx:load fires on every element htmx adds (any swap style); afterSwap covers the swap's
  // target when its content changed in place. Both are idempotent: a drawn figure is skipped.
  document.addEventListener("htmx:load", function (event) {
    drawAll(event.target);
  });
  document.addEventListener("htmx:afterSwap", function () {
    drawAll(document);
  });
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    var element = event.target;
    if (element.matches && element.matches("figure.chart")) {
      destroy(element);
    }
  });

  window.LingshouCharts = { draw: drawAll, destroy: destroy };
})();
