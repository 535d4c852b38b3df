// Lingshou's page behaviour, loaded (deferred) on every page.
//
// The Content-Security-Policy forbids inline script and on* attributes, so templates ask for
// behaviour with data- attributes instead. Listeners sit on the document, which makes them
// work for content that htmx swaps in later, too.
(function () {
  "use strict";

  var FEEDBACK_MS = 2000;

  // Briefly replace a button's label, e.g. "Copy" -> "Copied", then put it back.
  function showFeedback(button, text) {
    if (!button.dataset.label) {
      button.dataset.label = button.textContent;
    }
    button.textContent = text;
    window.clearTimeout(Number(button.dataset.feedbackTimer));
    button.dataset.feedbackTimer = window.setTimeout(function () {
      button.textContent = button.dataset.label;
    }, FEEDBACK_MS);
  }

  // <button type="button" data-copy="TEXT">Copy</button> copies TEXT, e.g. a new API token
  // that is shown once.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) {
      return;
    }
    event.preventDefault();
    // The Clipboard API exists only in secure contexts (HTTPS, or localhost in development).
    if (!navigator.clipboard) {
      showFeedback(button, "Copy by hand");
      return;
    }
    navigator.clipboard.writeText(button.dataset.copy).then(
      function () {
        showFeedback(button, "Copied");
      },
      function () {
        showFeedback(button, "Copy by hand");
      }
    );
  });

  // <form data-confirm="Delete this store?"> (or the same on its submit button) asks first.
  // Listening in the capture phase runs this before htmx's own submit handler on the form,
  // so a cancelled confirm stops hx-post forms as well as ordinary ones.
  document.addEventListener(
    "submit",
    function (event) {
      var submitter = event.submitter;
      var message = (submitter && submitter.dataset.confirm) || event.target.dataset.confirm;
      if (message && !window.confirm(message)) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true
  );

  // <select data-autosubmit> submits its form as soon as another option is picked (the store
  // picker). requestSubmit, unlike submit(), fires the submit event, so data-confirm and htmx
  // still see it; the form keeps a <noscript> button for browsers without JavaScript.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-autosubmit") || !select.form) {
      return;
    }
    if (typeof select.form.requestSubmit === "function") {
      select.form.requestSubmit();
    } else {
      select.form.submit();
    }
  });

  // htmx 2 swaps no 4xx response by default. A view that refuses a form answers 400 (or 422)
  // with the form's own partial, error message included, and that partial should replace the
  // form just as a 200 would. A whole page (such as Django's 400.html) is not swapped in:
  // it would nest a document inside the target; the generic error message below shows instead.
  // A 503 is swapped the same way: a part Lingshou needs is down (Stripe, the database) and the
  // view answers its own partial saying so, such as the counter's "Payments are not answering".
  var VALIDATION_STATUSES = [400, 422, 503];

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || VALIDATION_STATUSES.indexOf(xhr.status) < 0) {
      return;
    }
    var type = xhr.getResponseHeader("Content-Type") || "";
    var body = typeof xhr.responseText === "string" ? xhr.responseText : "";
    if (type.indexOf("text/html") !== 0 || body.trim() === "" || /<html[\s>]/i.test(body)) {
      return;
    }
    event.detail.shouldSwap = true;
    // Not an error any more: htmx:responseError (and its message) would say "did not work".
    event.detail.isError = false;
  });

  // Without this, an htmx request that fails leaves the page unchanged and the click looks
  // ignored. Show the failure where Django's messages appear.
  function showRequestError(text) {
    var main = document.getElementById("main");
    if (!main) {
      return;
    }
    var list = main.querySelector(".messages");
    if (!list) {
      list = document.createElement("ul");
      list.className = "messages";
      list.setAttribute("role", "status");
      main.insertBefore(list, main.firstChild);
    }
    var item = document.createElement("li");
    item.className = "message message-error";
    item.textContent = text;
    list.appendChild(item);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var status = xhr ? xhr.status : 0;
    var wait = status === 503 ? parseInt(xhr.getResponseHeader("Retry-After") || "", 10) : NaN;
    if (status === 403) {
      showRequestError("You are not allowed to do that.");
    } else if (status === 503) {
      showRequestError(
        "A service Lingshou needs is not answering right now. Try again" +
          (wait > 0 ? " in " + wait + " seconds." : " in a moment.")
      );
    } else {
      showRequestError("That did not work (error " + status + "). Reload the page and try again.");
    }
  });

  document.addEventListener("htmx:sendError", function () {
    showRequestError("No connection to Lingshou. Check the network and try again.");
  });
})();
