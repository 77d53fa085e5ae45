// Checkout: the order summary and the "Pay $X" button follow the quantity as it is typed
// (unit price times quantity, as the server computes it). Without script, the page shows
// the quantity it was rendered with, and the charge is computed on the server either way.
(function () {
  "use strict";
  var summary = document.querySelector(".order-summary[data-unit-cents]");
  var quantity = document.getElementById("field-quantity");
  if (!summary || !quantity) return;
  var unit = parseInt(summary.getAttribute("data-unit-cents"), 10);
  var currency = summary.getAttribute("data-currency") || "USD";
  var symbols = { USD: "$", EUR: "\u20ac", GBP: "\u00a3" };
  function money(cents) {
    var whole = Math.floor(cents / 100).toLocaleString("en-US");
    var amount = whole + "." + String(cents % 100).padStart(2, "0");
    return symbols[currency] ? symbols[currency] + amount : amount + " " + currency;
  }
  function update() {
    var text = quantity.value.trim();
    var count = /^\d+$/.test(text) ? parseInt(text, 10) : 1;
    if (count < 1 || count > 100) count = 1;
    var total = money(unit * count);
    summary.querySelector('[data-summary="quantity"]').textContent = String(count);
    summary.querySelector('[data-summary="amount"]').textContent = total;
    summary.querySelector('[data-summary="total"]').textContent = total;
    var pay = document.querySelector(".pay-card");
    if (pay) pay.textContent = "Pay " + total;
  }
  quantity.addEventListener("input", update);
})();
