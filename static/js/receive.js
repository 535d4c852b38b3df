// Receiving a delivery: a scanner (or a thumb) types a code and Enter, case after case, while the
// same person types what arrived damaged.
//
// Nothing may be dropped and nothing typed may be overwritten. So scanning never replaces the
// form: Enter (or "Count scan") takes the scan field's value and empties it at once, and the code
// joins a queue. One lookup is in flight at a time; the server answers only which line the code
// is and how many units it counts (a case barcode counts the case), and the page adds them to
// that line's "Arrived" field. Two quick scans count twice, a damaged count typed meanwhile stays,
// and a scan sent while the connection is down waits and is sent again. "Book into stock" waits
// for the scans still queued, then books. Without JavaScript "Count scan" posts the whole form
// and the page comes back with the scan counted.
(function () {
  "use strict";

  var RETRY_MS = 2000;

  var queue = [];
  var busy = false;
  var bookWhenDone = null; // the submit button pressed while scans were still queued

  function form() {
    return document.querySelector("form[data-receive-scan-url]");
  }

  function say(text, isProblem) {
    var status = document.getElementById("receive-scan-status");
    if (status) {
      status.textContent = text;
      status.classList.toggle("figure-negative", Boolean(isProblem));
    }
  }

  function csrfToken(receiving) {
    var input = receiving.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function take(field) {
    var code = field.value.trim();
    field.value = "";
    if (code) {
      queue.push(code);
      pump();
    }
  }

  function count(answer) {
    var field = document.getElementById("received-" + answer.line);
    if (!field) {
      say(answer.product + " is not on this page: reload it.", true);
      return;
    }
    var current = parseInt(field.value, 10);
    field.value = String((isNaN(current) ? 0 : current) + answer.units);
    say(answer.product + ": " + field.value + " counted.");
  }

  function done() {
    var receiving = form();
    if (bookWhenDone && receiving && !queue.length && !busy) {
      var button = bookWhenDone;
      bookWhenDone = null;
      receiving.requestSubmit(button);
    }
  }

  function pump() {
    var receiving = form();
    if (busy || !queue.length || !receiving) {
      done();
      return;
    }
    busy = true;
    var code = queue[0];
    var body = new FormData();
    body.append("code", code);
    fetch(receiving.dataset.receiveScanUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(receiving), Accept: "application/json" },
    })
      .then(function (response) {
        if (response.status >= 500) {
          throw new Error("Lingshou did not answer (" + response.status + ")");
        }
        queue.shift();
        if ((response.headers.get("Content-Type") || "").indexOf("application/json") !== 0) {
          // Signed out, or no longer allowed to receive: the page itself will say so on reload.
          say("That scan was not counted (" + response.status + "): reload the page.", true);
          return null;
        }
        return response.json().then(function (data) {
          if (response.ok) {
            count(data);
          } else {
            say((data.error && data.error.message) || "That scan was not counted.", true);
          }
        });
      })
      .then(
        function () {
          busy = false;
          pump();
        },
        function (error) {
          // No answer: the scan stays first in the queue and is sent again.
          busy = false;
          var why = error && error.message && error.message.indexOf("Lingshou") === 0 ? error.message : "No connection";
          say(why + ": " + queue.length + " scan" + (queue.length === 1 ? "" : "s") + " waiting…", true);
          window.setTimeout(pump, RETRY_MS);
        }
      );
  }

  // Enter in the scan field: keydown, not submit, so the form is never posted for a scan.
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || !(field instanceof HTMLInputElement) || !field.hasAttribute("data-receive-scan")) {
      return;
    }
    event.preventDefault();
    take(field);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-receive-scan-button]");
    if (!button) {
      return;
    }
    event.preventDefault();
    var field = document.querySelector("[data-receive-scan]");
    if (field) {
      take(field);
      field.focus();
    }
  });

  // Booking while scans are still on their way would book too few: wait for them.
  document.addEventListener("submit", function (event) {
    if (event.target !== form() || (!queue.length && !busy)) {
      return;
    }
    event.preventDefault();
    bookWhenDone = event.submitter || null;
    say("Counting the last scans, then booking…");
  });
})();
