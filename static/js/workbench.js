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
