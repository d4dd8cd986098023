// casedesk keyboard shortcuts. On the case list: j / k move between cases, Enter opens one,
// / focuses the search. On a case: r writes a reply, n an internal note, a picks the assignee. Keys typed into a field
// are left alone. (Listeners sit on the document, so they survive htmx swapping the page body.)
(function () {
  "use strict";
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function move(step) {
    var links = Array.prototype.slice.call(document.querySelectorAll("a.case-link"));
    if (!links.length) return;
    var i = links.indexOf(document.activeElement);
    var next = links[Math.max(0, Math.min(links.length - 1, i < 0 ? 0 : i + step))];
    links.forEach(function (a) { a.closest("tr").classList.remove("selected"); });
    next.closest("tr").classList.add("selected");
    next.focus();
  }
  function compose(kind) {
    var radio = document.getElementById("visibility-" + kind);
    var body = document.getElementById("body");
    if (!radio || !body) return false;
    radio.checked = true;
    body.focus();
    return true;
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    var handled = true;
    switch (e.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "r": handled = compose("reply"); break;
      case "n": handled = compose("note"); break;
      case "a": var owner = document.getElementById("owner_id"); if (owner && document.querySelector("article.case")) owner.focus(); else handled = false; break;
      case "/": var q = document.getElementById("q"); if (q) q.focus(); else handled = false; break;
      default: handled = false;
    }
    if (handled) e.preventDefault();
  });
})();
