// Shows each <time data-local-time datetime="..."> in the browser's own time zone.
// Without JavaScript the server's UTC text stays, so the page works either way.
(function () {
  "use strict";
  function localize() {
    var format;
    try {
      format = new Intl.DateTimeFormat(undefined, {
        dateStyle: "full",
        timeStyle: "short",
      });
    } catch (e) {
      return;
    }
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    document.querySelectorAll("time[data-local-time]").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (isNaN(moment.getTime())) {
        return;
      }
      el.title = el.textContent.trim();
      el.textContent = format.format(moment) + (zone ? " (" + zone.replace(/_/g, " ") + ")" : "");
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", localize);
  } else {
    localize();
  }
})();
