// casedesk in the browser: keyboard shortcuts, the list's selection and bulk bar, and the filter
// controls. Everything here only helps: the pages work as plain links and forms without it.
//
// Live pages follow server-sent events, and typing a reply tells the others on the case.
//
// Keys on the case list: j / k move between cases, x selects the case in focus, Enter opens it,
// / focuses the search. On a case: r writes a reply, n an internal note, a picks the assignee.
// Keys typed into a field are left alone. Listeners sit on the document, so they survive htmx
// swapping the page body.
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
  function toggleFocused() {
    var row = document.activeElement && document.activeElement.closest && document.activeElement.closest("tr[data-case]");
    var box = row && row.querySelector("input[name=ids]");
    if (!box) return false;
    box.checked = !box.checked;
    bulkState();
    return true;
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    var handled = true;
    switch (e.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "x": handled = toggleFocused(); break;
      case "r": handled = compose("reply"); break;
      case "n": handled = compose("note"); break;
      case "a": var owner = document.getElementById("owner_id"); if (owner && document.querySelector("article.case")) owner.focus(); else handled = false; break;
      case "/": var q = document.getElementById("q"); if (q) q.focus(); else handled = false; break;
      default: handled = false;
    }
    if (handled) e.preventDefault();
  });

  // ---- the list: selection, the bulk bar, filters ------------------------------------------
  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("#bulk input[name=ids]"));
  }
  // Shows the chosen action's parameter only, counts the selection, and marks selected rows.
  function bulkState() {
    var bar = document.getElementById("bulk");
    if (!bar) return;
    var action = document.getElementById("bulk-action").value;
    bar.querySelectorAll(".bulk-param").forEach(function (p) {
      p.hidden = p.dataset.for.split(" ").indexOf(action) < 0;
    });
    var all = boxes();
    var chosen = all.filter(function (b) { return b.checked; });
    all.forEach(function (b) { b.closest("tr").classList.toggle("picked", b.checked); });
    var count = document.getElementById("bulk-count");
    count.textContent = chosen.length ? chosen.length + " selected" : "Select cases to act on several at once";
    var pickAll = document.getElementById("pick-all");
    pickAll.hidden = false;
    pickAll.checked = all.length > 0 && chosen.length === all.length;
    pickAll.indeterminate = chosen.length > 0 && chosen.length < all.length;
    document.getElementById("bulk-apply").disabled = chosen.length === 0;
  }
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.id === "pick-all") {
      boxes().forEach(function (b) { b.checked = t.checked; });
      bulkState();
    } else if (t.name === "ids" || t.id === "bulk-action") {
      bulkState();
    } else if (t.tagName === "SELECT" && t.form && t.form.id === "filters") {
      t.form.requestSubmit();
    }
  });
  // A refresh of the results (live, or the search box) keeps what was selected.
  var kept = [];
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "results") {
      kept = boxes().filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    }
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "results") {
      boxes().forEach(function (b) { if (kept.indexOf(b.value) >= 0) b.checked = true; });
    }
    bulkState();
  });
  document.addEventListener("DOMContentLoaded", bulkState);

  // ---- live pages: server-sent events say that something changed; the page then asks for its
  // fresh HTML. A region being typed into is refreshed once the focus leaves it.
  var source = null, sourceUrl = null, pending = false, soon = null;
  function busy(region) {
    var a = document.activeElement;
    return !!(region && a && region.contains(a) && typing(a));
  }
  function refresh() {
    soon = null;
    var live = document.getElementById("case-live");
    var results = document.getElementById("results");
    if (live) {
      pending = busy(live) || busy(document.getElementById("case-side"));
      if (!pending) htmx.trigger(live, "live-changed");
    } else if (results) {
      pending = busy(results);
      if (!pending) htmx.ajax("GET", location.pathname + location.search, { target: "#results", swap: "innerHTML", headers: { "X-Live": "1" } });
    }
  }
  function changed() { if (!soon) soon = setTimeout(refresh, 150); }
  document.addEventListener("focusout", function () { if (pending) setTimeout(function () { if (pending) refresh(); }, 0); });
  function connect() {
    var el = document.querySelector("[data-live]");
    var url = el ? el.dataset.live : null;
    if (url === sourceUrl) return;
    if (source) source.close();
    source = null;
    sourceUrl = url;
    if (!url || !window.EventSource || !window.htmx) return;
    source = new EventSource(url);
    source.addEventListener("changed", changed);
    source.addEventListener("presence", function (e) {
      var p = document.getElementById("presence");
      if (p) p.innerHTML = e.data;
    });
  }
  document.addEventListener("DOMContentLoaded", connect);
  document.addEventListener("htmx:afterSwap", connect);
  // A page left for another (or kept in the back-forward cache) lets its stream go: browsers
  // allow only a few connections to one server.
  window.addEventListener("pagehide", function () {
    if (source) source.close();
    source = null;
    sourceUrl = null;
  });
  window.addEventListener("pageshow", function (e) { if (e.persisted) connect(); });
  // Typing a reply tells the others on the case (at most every few seconds).
  var typedAt = 0;
  document.addEventListener("input", function (e) {
    var art = document.querySelector("article.case[data-case]");
    if (e.target.id !== "body" || !art || Date.now() - typedAt < 3000) return;
    typedAt = Date.now();
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    fetch("/cases/" + encodeURIComponent(art.dataset.case) + "/typing", { method: "POST", headers: headers, credentials: "same-origin" });
  });

  // ---- running timers tick (the header's and the case page's) --------------------------------
  function two(n) { return (n < 10 ? "0" : "") + n; }
  setInterval(function () {
    document.querySelectorAll(".timer-clock[data-running]").forEach(function (el) {
      if (!el.dataset.t0) el.dataset.t0 = String(Date.now());
      var s = Number(el.dataset.elapsed) + Math.floor((Date.now() - Number(el.dataset.t0)) / 1000);
      el.textContent = Math.floor(s / 3600) + ":" + two(Math.floor(s / 60) % 60) + ":" + two(s % 60);
    });
  }, 1000);
})();
