// Stripe's Payment Element on the pay page (only with real Stripe keys; see checkout.views.pay).
// The page is redirected to the receipt, which waits for the webhook: the browser never marks
// an order paid.
(function () {
  "use strict";
  const form = document.getElementById("payment-form");
  if (!form || typeof window.Stripe !== "function") return;
  const options = form.dataset.stripeAccount ? { stripeAccount: form.dataset.stripeAccount } : {};
  const stripe = window.Stripe(form.dataset.publishableKey, options);
  const elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
  elements.create("payment").mount("#payment-element");
  const button = document.getElementById("payment-submit");
  const message = document.getElementById("payment-message");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    message.hidden = true;
    const { error } = await stripe.confirmPayment({
      elements,
      confirmParams: { return_url: form.dataset.returnUrl },
    });
    // Only reached when the payment could not be started (a decline, a typo in the card):
    // otherwise Stripe has already sent the browser to return_url.
    message.textContent = error && error.message ? error.message : "The payment did not go through.";
    message.hidden = false;
    button.disabled = false;
  });
})();
