// Shell behaviour: keyboard shortcuts. "/" focuses the page's search box.
(function () {
  document.addEventListener("keydown", function (e) {
    const t = e.target;
    const typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
    if (e.key === "/" && !typing) {
      const search = document.querySelector("[data-search-box]");
      if (search) { e.preventDefault(); search.focus(); search.select(); }
    }
  });
})();
