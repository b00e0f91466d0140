// Query page: run the query against /sparql with fetch, render SELECT/ASK results as a table and
// graphs as text. Every value is inserted as text (never as HTML), so results cannot inject markup.
(function () {
  const form = document.getElementById("sparql-form");
  const query = document.getElementById("query");
  const format = document.getElementById("format");
  const status = document.getElementById("status");
  const results = document.getElementById("results");
  const examples = JSON.parse(document.getElementById("example-queries").textContent);
  document.getElementById("example").addEventListener("change", function (e) {
    const q = examples.find(function (x) { return x.name === e.target.value; });
    if (q) query.value = q.text;
  });
  function cell(term) {
    const td = document.createElement("td");
    if (!term) return td;
    if (term.type === "uri") {
      const a = document.createElement("a");
      a.href = "/resource?iri=" + encodeURIComponent(term.value);
      a.textContent = term.value;
      td.appendChild(a);
    } else {
      td.textContent = term.value;
      if (term.datatype && !term.datatype.endsWith("#string")) {
        const dt = document.createElement("span");
        dt.className = "dt";
        dt.textContent = " " + term.datatype.replace("http://www.w3.org/2001/XMLSchema#", "xsd:");
        td.appendChild(dt);
      }
    }
    return td;
  }
  form.addEventListener("submit", function (e) {
    if (format.value) return; // a download: let the browser submit the form
    e.preventDefault();
    status.textContent = "running…";
    results.textContent = "";
    const started = performance.now();
    fetch(form.action, {
      method: "POST",
      headers: { "Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json, text/turtle;q=0.9" },
      body: query.value,
    }).then(function (r) {
      const ctype = r.headers.get("Content-Type") || "";
      return (ctype.indexOf("json") >= 0 ? r.json() : r.text()).then(function (body) { return { ok: r.ok, body: body, ctype: ctype }; });
    }).then(function (res) {
      const ms = Math.round(performance.now() - started);
      if (!res.ok) {
        status.textContent = "error";
        const pre = document.createElement("pre");
        pre.className = "error";
        pre.textContent = res.body.message || res.body;
        results.appendChild(pre);
        return;
      }
      if (typeof res.body === "string") {
        const pre = document.createElement("pre");
        pre.textContent = res.body;
        results.appendChild(pre);
        status.textContent = "graph result in " + ms + " ms";
        return;
      }
      if ("boolean" in res.body) {
        results.textContent = String(res.body.boolean);
        status.textContent = "answered in " + ms + " ms";
        return;
      }
      const vars = res.body.head.vars;
      const table = document.createElement("table");
      table.className = "results";
      const head = table.createTHead().insertRow();
      vars.forEach(function (v) { const th = document.createElement("th"); th.textContent = v; head.appendChild(th); });
      const body = table.createTBody();
      res.body.results.bindings.forEach(function (b) {
        const tr = body.insertRow();
        vars.forEach(function (v) { tr.appendChild(cell(b[v])); });
      });
      results.appendChild(table);
      status.textContent = res.body.results.bindings.length + " rows in " + ms + " ms";
    }).catch(function (err) { status.textContent = "failed: " + err; });
  });
})();
