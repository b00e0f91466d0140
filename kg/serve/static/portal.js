// Small page helpers: copy buttons (study pages) and jump-to-node in facet trees (search).
document.addEventListener("click", function (e) {
  var b = e.target.closest("button.copy");
  if (!b) return;
  var text = b.dataset.copy || (document.getElementById(b.dataset.copyFrom) || {}).textContent || "";
  var done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = b.dataset.label || "Copy"; }, 1500); };
  b.dataset.label = b.dataset.label || b.textContent;
  if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(done); }
  else { var t = document.createElement("textarea"); t.value = text; document.body.appendChild(t); t.select(); document.execCommand("copy"); t.remove(); done(); }
});
document.querySelectorAll("input.tree-find").forEach(function (input) {
  var facet = document.getElementById(input.dataset.facet);
  input.addEventListener("input", function () {
    var q = input.value.trim().toLowerCase();
    facet.querySelectorAll("li.tree-node").forEach(function (li) { li.classList.remove("found"); });
    if (q.length < 2) return;
    var hit = Array.prototype.find.call(facet.querySelectorAll("a.facet-value"), function (a) { return a.textContent.toLowerCase().indexOf(q) >= 0; });
    if (!hit) return;
    for (var d = hit.closest("details"); d; d = d.parentElement.closest("details")) d.open = true;
    hit.closest("li").classList.add("found");
    hit.scrollIntoView({block: "nearest"});
  });
});
