// Calibration page: draw slot polygons over the reference picture and link each to a product.
//
// Vanilla JS under the strict CSP (no inline script): the page hands over its data in
// json_script elements and data- attributes. Coordinates are kept in the reference picture's own
// pixels (the SVG's viewBox), whatever size the picture is shown at, and sent as JSON in the
// hidden "slots" field: [{key, store_product, polygon: [[x, y], ...], capacity, units}].
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var CLOSE_DISTANCE = 12; // picture pixels: a click this near the first corner closes the slot

  function readJson(id, fallback) {
    var element = document.getElementById(id);
    if (!element) {
      return fallback;
    }
    try {
      return JSON.parse(element.textContent);
    } catch (error) {
      return fallback;
    }
  }

  function init() {
    var form = document.getElementById("calibrate-form");
    if (!form) {
      return;
    }
    var stage = document.getElementById("calibrate-stage");
    var svg = document.getElementById("calibrate-svg");
    var image = document.getElementById("calibrate-image");
    var layer = document.getElementById("calibrate-slots-layer");
    var draft = document.getElementById("calibrate-draft");
    var rows = document.getElementById("calibrate-rows");
    var rowTemplate = document.getElementById("calibrate-row");
    var status = document.getElementById("calibrate-status");
    var hidden = form.querySelector("input[name=slots]");
    var fileInput = form.querySelector("input[name=reference]");
    var products = readJson("calibrate-products", []);
    var slots = readJson("calibrate-slots", []);
    var corners = [];
    var size = { width: Number(stage.dataset.width) || 1280, height: Number(stage.dataset.height) || 720 };

    function say(text) {
      status.textContent = text;
    }

    function setPicture(src, knownWidth, knownHeight) {
      if (!src) {
        return;
      }
      // Learn the picture's pixel size first: the polygons are stored in those pixels.
      var probe = new Image();
      probe.onload = function () {
        size = { width: knownWidth || probe.naturalWidth, height: knownHeight || probe.naturalHeight };
        svg.setAttribute("viewBox", "0 0 " + size.width + " " + size.height);
        image.setAttribute("width", size.width);
        image.setAttribute("height", size.height);
        image.setAttribute("href", src);
        say("Picture " + size.width + " × " + size.height + " px. Click the corners of a slot.");
      };
      probe.src = src;
    }

    function toPicture(event) {
      var point = svg.createSVGPoint();
      point.x = event.clientX;
      point.y = event.clientY;
      var local = point.matrixTransform(svg.getScreenCTM().inverse());
      return [
        Math.round(Math.min(Math.max(local.x, 0), size.width)),
        Math.round(Math.min(Math.max(local.y, 0), size.height)),
      ];
    }

    function pointsText(polygon) {
      return polygon
        .map(function (p) {
          return p[0] + "," + p[1];
        })
        .join(" ");
    }

    function nextKey() {
      var used = {};
      slots.forEach(function (slot) {
        used[slot.key] = true;
      });
      for (var n = 1; ; n += 1) {
        if (!used["s" + n]) {
          return "s" + n;
        }
      }
    }

    function render() {
      while (layer.firstChild) {
        layer.removeChild(layer.firstChild);
      }
      rows.textContent = "";
      slots.forEach(function (slot, index) {
        var polygon = document.createElementNS(SVG_NS, "polygon");
        polygon.setAttribute("points", pointsText(slot.polygon));
        polygon.setAttribute("class", "slot-calibrated");
        layer.appendChild(polygon);
        var label = document.createElementNS(SVG_NS, "text");
        label.setAttribute("class", "slot-label");
        label.setAttribute("x", Math.min.apply(null, slot.polygon.map(function (p) { return p[0]; })) + 6);
        label.setAttribute("y", Math.min.apply(null, slot.polygon.map(function (p) { return p[1]; })) + 22);
        label.textContent = slot.key;
        layer.appendChild(label);

        var row = rowTemplate.content.firstElementChild.cloneNode(true);
        var key = row.querySelector(".slot-key");
        var select = row.querySelector(".slot-product");
        var capacity = row.querySelector(".slot-capacity");
        var units = row.querySelector(".slot-units");
        key.value = slot.key;
        var empty = document.createElement("option");
        empty.value = "";
        empty.textContent = "Choose a product";
        select.appendChild(empty);
        products.forEach(function (product) {
          var option = document.createElement("option");
          option.value = String(product.id);
          option.textContent = product.name;
          select.appendChild(option);
        });
        select.value = slot.store_product ? String(slot.store_product) : "";
        capacity.value = slot.capacity;
        units.value = slot.units;
        key.addEventListener("input", function () {
          slot.key = key.value.trim();
          label.textContent = slot.key;
        });
        select.addEventListener("change", function () {
          slot.store_product = select.value ? Number(select.value) : null;
        });
        capacity.addEventListener("input", function () {
          slot.capacity = Number(capacity.value);
        });
        units.addEventListener("input", function () {
          slot.units = Number(units.value);
        });
        row.querySelector(".slot-remove").addEventListener("click", function () {
          slots.splice(index, 1);
          render();
        });
        rows.appendChild(row);
      });
      draft.setAttribute("points", pointsText(corners));
    }

    function finish() {
      if (corners.length < 3) {
        say("A slot needs at least three corners.");
        return;
      }
      slots.push({ key: nextKey(), store_product: null, polygon: corners, capacity: 6, units: 6 });
      corners = [];
      say("Slot added: choose its product below, or draw the next one.");
      render();
    }

    svg.addEventListener("click", function (event) {
      var point = toPicture(event);
      if (corners.length >= 3) {
        var first = corners[0];
        if (Math.hypot(point[0] - first[0], point[1] - first[1]) <= CLOSE_DISTANCE) {
          finish();
          return;
        }
      }
      corners.push(point);
      render();
    });
    document.getElementById("calibrate-finish").addEventListener("click", finish);
    document.getElementById("calibrate-undo").addEventListener("click", function () {
      corners.pop();
      render();
    });
    if (fileInput) {
      fileInput.addEventListener("change", function () {
        if (fileInput.files && fileInput.files[0]) {
          form.querySelectorAll("input[name=reference_frame]").forEach(function (radio) {
            radio.checked = false;
          });
          setPicture(URL.createObjectURL(fileInput.files[0]));
        }
      });
    }
    form.querySelectorAll("input[name=reference_frame]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (radio.checked) {
          if (fileInput) {
            fileInput.value = "";
          }
          setPicture(radio.dataset.src);
        }
      });
    });
    form.addEventListener("submit", function () {
      hidden.value = JSON.stringify(slots);
    });

    setPicture(stage.dataset.src, Number(stage.dataset.width), Number(stage.dataset.height));
    render();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
