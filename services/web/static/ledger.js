// Progressive enhancement only: every page works without this script.
// It asks the server for the store's last position every few seconds and,
// when new events have arrived since the page was made, reloads a page of
// figures or says so on any other page. The reload can be switched off
// (WCAG 2.2.2: auto-updating content can be stopped); the choice is kept
// in this browser. Asking does not keep the session alive.
(function () {
  var stand = document.getElementById("stand");
  var nieuw = document.getElementById("nieuw");
  if (!stand || !nieuw || !window.fetch) return;
  var kop = stand.getAttribute("data-kop");
  if (!kop) return;
  var figures = stand.getAttribute("data-vernieuw") === "auto";
  var key = "ledger-bijwerken";
  var auto = false;
  if (figures) {
    var stored = null;
    try { stored = window.localStorage.getItem(key); } catch (e) {}
    auto = stored !== "uit";
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.id = "bijwerken";
    box.checked = auto;
    box.addEventListener("change", function () {
      auto = box.checked;
      try { window.localStorage.setItem(key, auto ? "aan" : "uit"); } catch (e) {}
    });
    label.setAttribute("for", "bijwerken");
    label.textContent = " Cijfers automatisch bijwerken als er nieuwe gebeurtenissen zijn";
    var p = document.createElement("p");
    p.className = "utrecht-paragraph";
    p.appendChild(box);
    p.appendChild(label);
    stand.parentNode.insertBefore(p, nieuw);
  }
  function busy() {
    var a = document.activeElement;
    return a && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA") && a.id !== "bijwerken";
  }
  function say(text, href, linkText) {
    nieuw.textContent = text + " ";
    var a = document.createElement("a");
    a.className = "utrecht-link";
    a.href = href;
    a.textContent = linkText;
    nieuw.appendChild(a);
  }
  var timer = setInterval(check, 3000);
  function check() {
    fetch("/positie", { credentials: "same-origin", cache: "no-store", redirect: "error" })
      .then(function (r) {
        if (r.status === 401) {
          clearInterval(timer);
          say("U bent niet meer aangemeld.", "/inloggen?terug=" + encodeURIComponent(location.pathname + location.search), "Opnieuw inloggen");
          return null;
        }
        var type = r.headers.get("Content-Type") || "";
        return r.ok && type.indexOf("text/plain") === 0 ? r.text() : null;
      })
      .then(function (p) {
        if (!p) return;
        p = p.trim();
        if (p === kop) return;
        if (auto && !busy()) { window.location.reload(); return; }
        say("Er zijn nieuwe gebeurtenissen vastgelegd (positie " + p + ").", window.location.href, "Vernieuw de pagina");
        kop = p;
      })
      .catch(function () {});
  }
})();
