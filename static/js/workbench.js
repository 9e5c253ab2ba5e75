// Shell keyboard shortcuts: "/" focuses the page's search box, "?" shows the help,
// "g" then a letter follows a navigation link (g c: customers, g q: queues, ...).
(function () {
  let pendingG = 0;
  function typing(t) {
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (e.key === "/") {
      const search = document.querySelector("[data-search-box]");
      if (search) { e.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (e.key === "?") {
      const help = document.getElementById("shortcuts-help");
      if (help && window.bootstrap) { e.preventDefault(); window.bootstrap.Modal.getOrCreateInstance(help).show(); }
      return;
    }
    if (e.key === "g") { pendingG = Date.now(); return; }
    if (pendingG && Date.now() - pendingG < 1500) {
      pendingG = 0;
      const link = document.querySelector('a[data-shortcut="' + CSS.escape(e.key) + '"]');
      if (link) { e.preventDefault(); window.location.href = link.href; }
    }
  });
})();

// Page behaviours wired by data attributes: no inline script or handler anywhere, so the
// Content-Security-Policy can forbid them (script-src 'self'; style-src 'self').
(function () {
  function typing(t) {
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }

  // <select data-autosubmit>: choosing submits its form (language, product in focus).
  document.addEventListener("change", function (e) {
    const el = e.target.closest("[data-autosubmit]");
    if (el && el.form) el.form.submit();
  });

  // Tabs loaded with htmx ([data-tab]): the clicked one becomes the active one at once.
  document.addEventListener("click", function (e) {
    const tab = e.target.closest("[data-tab]");
    if (!tab) return;
    document.querySelectorAll("[data-tab]").forEach(function (a) { a.classList.remove("active"); });
    tab.classList.add("active");
  });

  // An export link ([data-export]) takes its form's filters as they are now.
  document.addEventListener("click", function (e) {
    const link = e.target.closest("[data-export]");
    if (!link) return;
    const data = new FormData(link.closest("form"));
    data.delete("tab");
    for (const [key, value] of Array.from(data.entries())) { if (!value) data.delete(key); }
    link.href = link.dataset.export + "?" + new URLSearchParams(data).toString();
  });

  // A "select all" box ([data-select-all="name"]) ticks every box of that name.
  document.addEventListener("change", function (e) {
    const box = e.target.closest("[data-select-all]");
    if (!box) return;
    document.querySelectorAll('input[name="' + box.dataset.selectAll + '"]').forEach(function (c) {
      if (c !== box) c.checked = box.checked;
    });
  });

  // "N" claims the next lead on the queue page (when not typing).
  document.addEventListener("keydown", function (e) {
    if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "n" || e.key === "N") {
      const b = document.getElementById("claim-next");
      if (b) { e.preventDefault(); b.click(); }
    }
  });

  // Bars whose length is data ([data-width] in percent): set through the CSSOM, which the
  // policy allows, instead of a style attribute, which it does not.
  function widths(root) {
    (root || document).querySelectorAll("[data-width]").forEach(function (el) {
      const pct = Math.max(0, Math.min(100, parseFloat(el.dataset.width) || 0));
      el.style.width = pct + "%";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { widths(document); });
  document.addEventListener("htmx:afterSettle", function (e) { widths(e.target); });
})();
