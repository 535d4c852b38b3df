// Counter mode: a USB barcode scanner types a code and presses Enter, up to twenty times a second.
//
// Nothing may be dropped and the scan field keeps the focus. So the scan field is never disabled
// and never swapped: Enter takes its value and empties it at once (the next code is already being
// typed), and the code joins a queue. One request is in flight at a time; scans waiting when it
// answers go together in the next request (code=…&code=…, in scan order), so a fast scanner
// makes fewer, larger requests instead of a pile-up. The sale's own forms (quantity, void, pay)
// go through the same queue: a payment is sent only after every scan before it was counted, and
// answers can never arrive out of order and paint an older sale over a newer one.
//
// Every answer is the #counter-sale partial, sent as for htmx (HX-Request), swapped in whole.
(function () {
  "use strict";

  var MAX_BATCH = 50;
  var RETRY_MS = 2000;
  var LOG_KEEP = 8;
  // Answers with the sale partial: ok, refused input (400), a closed shift or sale (409), and a part
  // Lingshou needs that is down (503: Stripe not answering), each with its message.
  var SWAPPED = [200, 400, 409, 503];

  var queue = [];
  var busy = false;

  function scanField() {
    return document.querySelector("[data-counter-scan-input]");
  }

  function csrfToken(form) {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) {
      return input.value;
    }
    var any = document.querySelector("input[name=csrfmiddlewaretoken]");
    return any ? any.value : "";
  }

  function setStatus(text) {
    var status = document.getElementById("counter-scan-status");
    if (status) {
      status.textContent = text;
    }
  }

  function waiting() {
    var scans = queue.filter(function (item) {
      return item.code !== undefined;
    }).length;
    setStatus(scans ? scans + " scan" + (scans === 1 ? "" : "s") + " waiting…" : "");
  }

  // Problems stay listed (newest first) while later scans go on; the sale swap never clears them.
  function log(items) {
    var list = document.getElementById("counter-scan-log");
    if (!list || !items.length) {
      return;
    }
    items.forEach(function (item) {
      list.insertBefore(item, list.firstChild);
    });
    while (list.children.length > LOG_KEEP) {
      list.removeChild(list.lastChild);
    }
    list.hidden = false;
  }

  function logText(text) {
    var item = document.createElement("li");
    item.className = "message message-error";
    item.textContent = text;
    log([item]);
  }

  function focusScan() {
    var field = scanField();
    if (field && document.activeElement !== field) {
      field.focus();
    }
  }

  function swap(html) {
    var current = document.getElementById("counter-sale");
    var template = document.createElement("template");
    template.innerHTML = html;
    var fresh = template.content.querySelector("#counter-sale");
    if (!current || !fresh) {
      return false;
    }
    var problems = fresh.querySelector("[data-counter-problems]");
    if (problems) {
      log(Array.prototype.slice.call(problems.children));
      problems.parentNode.removeChild(problems);
    }
    // The element about to be replaced may hold the focus (a Void button just clicked).
    var hadFocus = current.contains(document.activeElement);
    current.parentNode.replaceChild(fresh, current);
    if (window.htmx) {
      window.htmx.process(fresh);
    }
    var wanted = fresh.querySelector("[data-counter-focus]");
    if (wanted) {
      wanted.focus();
    } else if (hadFocus || document.activeElement === document.body || !document.activeElement) {
      focusScan();
    }
    return true;
  }

  function send(url, body, form) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "HX-Request": "true", "X-CSRFToken": csrfToken(form) },
    }).then(function (response) {
      return response.text().then(function (text) {
        return { status: response.status, text: text };
      });
    });
  }

  function pump() {
    if (busy || !queue.length) {
      waiting();
      return;
    }
    busy = true;
    var batch = []; // the scans this request carries
    var item = queue[0];
    var url;
    var body;
    if (item.code !== undefined) {
      var form = document.querySelector("[data-counter-scan]");
      url = form.action;
      body = new FormData();
      while (queue.length && queue[0].code !== undefined && batch.length < MAX_BATCH) {
        batch.push(queue.shift());
      }
      batch.forEach(function (scan) {
        body.append("code", scan.code);
      });
      item = { form: form };
    } else {
      var formItem = queue.shift();
      url = item.form.action;
      body = new FormData(item.form);
      if (item.submitter && item.submitter.name) {
        body.append(item.submitter.name, item.submitter.value);
      }
    }
    waiting();
    send(url, body, item.form)
      .then(function (answer) {
        if (SWAPPED.indexOf(answer.status) < 0 || !swap(answer.text)) {
          // The server refused or failed as a whole (its transaction rolled back): say which
          // scans were not counted rather than retry a request that may fail the same way.
          var codes = batch.map(function (scan) {
            return scan.code;
          });
          logText(
            (answer.status === 403
              ? "You are not allowed to do that."
              : answer.status === 503
                ? "A service Lingshou needs is not answering right now."
                : "That did not work (error " + answer.status + ").") +
              (codes.length ? " Not counted, scan again: " + codes.join(", ") : " Reload the page.")
          );
        }
        busy = false;
        pump();
      })
      .catch(function () {
        // No answer at all (network): put the request back in front and try again shortly.
        // Paying again is safe (a replay returns the payment already recorded).
        queue = (batch.length ? batch : [formItem]).concat(queue);
        // Selling offline (counter_offline.js), when the page has it, may take what is waiting
        // over instead: it cancels this event, and nothing here is sent again.
        var unreachable = new CustomEvent("counter:unreachable", { cancelable: true, detail: { queue: queue } });
        if (!document.dispatchEvent(unreachable)) {
          queue = [];
          busy = false;
          waiting();
          return;
        }
        setStatus("No connection to Lingshou. " + queue.length + " waiting, trying again…");
        window.setTimeout(function () {
          busy = false;
          pump();
        }, RETRY_MS);
      });
  }

  function enqueueScan(field) {
    var code = field.value.trim();
    field.value = "";
    if (code) {
      queue.push({ code: code });
      pump();
    }
  }

  // Enter in the scan field: keydown, not submit, so the browser does no form submission at all.
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || !(field instanceof HTMLInputElement) || !field.hasAttribute("data-counter-scan-input")) {
      return;
    }
    event.preventDefault();
    enqueueScan(field);
  });

  document.addEventListener("submit", function (event) {
    // lingshou.js's data-confirm check runs first (capture phase); a cancelled confirm stops here.
    if (event.defaultPrevented) {
      return;
    }
    var form = event.target;
    if (form.hasAttribute("data-counter-scan")) {
      event.preventDefault();
      enqueueScan(form.querySelector("[data-counter-scan-input]"));
      focusScan();
    } else if (form.hasAttribute("data-counter-form") && form.closest("[data-counter-sale]")) {
      event.preventDefault();
      queue.push({ form: form, submitter: event.submitter });
      pump();
    }
  });

  // A click on the page outside any control gives the focus back to the scan field, so the
  // next scan is never typed into nowhere.
  document.addEventListener("click", function (event) {
    if (!scanField()) {
      return;
    }
    // <main tabindex="-1"> is only a skip-link target, not a control.
    if (event.target.closest("input, button, a, select, textarea, label, summary, [tabindex]:not([tabindex='-1'])")) {
      return;
    }
    if (window.getSelection && String(window.getSelection())) {
      return; // the clerk is selecting text to copy
    }
    focusScan();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-counter-print]")) {
      window.print();
    }
  });

  // Leaving with scans still waiting would lose them: the browser asks first.
  window.addEventListener("beforeunload", function (event) {
    if (queue.length || busy) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
