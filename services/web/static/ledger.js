// Progressive enhancement only: every page works without this script.
// It asks the server for the store's last position every few seconds and,
// when new events have arrived since the page was made, reloads a page of
// figures (unless the visitor is typing in it) or says so on any other page.
(function () {
  var stand = document.getElementById("stand");
  var nieuw = document.getElementById("nieuw");
  if (!stand || !nieuw || !window.fetch) return;
  var kop = stand.getAttribute("data-kop");
  if (!kop) return;
  var auto = stand.getAttribute("data-vernieuw") === "auto";
  function busy() {
    var a = document.activeElement;
    return a && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA");
  }
  function check() {
    fetch("/positie", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (p) {
        if (!p) return;
        p = p.trim();
        if (p === kop) return;
        if (auto && !busy()) { window.location.reload(); return; }
        nieuw.textContent = "";
        var t = document.createTextNode("Er zijn nieuwe gebeurtenissen vastgelegd (positie " + p + "). ");
        var a = document.createElement("a");
        a.className = "utrecht-link";
        a.href = window.location.href;
        a.textContent = "Vernieuw de pagina";
        nieuw.appendChild(t);
        nieuw.appendChild(a);
        kop = p;
      })
      .catch(function () {});
  }
  setInterval(check, 3000);
})();
