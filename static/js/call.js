// The call screen: show the fields of the chosen next action and purpose; Ctrl+Enter
// submits; digits 1-9 pick a disposition.
(function () {
  function sync() {
    const form = document.getElementById("call-outcome-form");
    if (!form) return;
    const action = form.querySelector("[name=next_action]").value;
    const purpose = (form.querySelector("[name=purpose]:checked") || {}).value;
    form.querySelectorAll("[data-show-when-action]").forEach(function (el) {
      el.hidden = el.dataset.showWhenAction !== action;
    });
    form.querySelectorAll("[data-show-when-purpose]").forEach(function (el) {
      el.hidden = el.dataset.showWhenPurpose !== purpose;
    });
  }
  document.addEventListener("change", sync);
  document.addEventListener("htmx:afterSettle", sync);
  document.addEventListener("DOMContentLoaded", sync);
  document.addEventListener("keydown", function (e) {
    const form = document.getElementById("call-outcome-form");
    if (!form) return;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); return; }
    const t = e.target;
    if (t && ((t.tagName === "INPUT" && t.type !== "radio") || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) return;
    if (/^[1-9]$/.test(e.key) && !e.ctrlKey && !e.altKey && !e.metaKey) {
      const radio = form.querySelector('[name=disposition][data-key="' + e.key + '"]');
      if (radio) { radio.checked = true; e.preventDefault(); }
    }
  });
})();
