// Query page: the editor (sparql-editor.js, CodeMirror; a plain textarea if it failed to load), running the
// query against /sparql with fetch, a paged results table with IRIs compacted by the query's and the known
// prefixes, download links in every format, and a shareable /sparql?query=… URL. Every value is inserted as
// text (never as HTML), so results cannot inject markup; links go only to our own /resource page.
(function () {
  "use strict";
  const form = document.getElementById("sparql-form");
  const textarea = document.getElementById("query");
  const status = document.getElementById("status");
  const results = document.getElementById("results");
  const downloads = document.getElementById("downloads");
  const share = document.getElementById("share");
  const examples = JSON.parse(document.getElementById("example-queries").textContent);
  const known = JSON.parse(document.getElementById("known-prefixes").textContent);
  const PAGE_SIZES = [25, 100, 500];
  const FORMATS = {
    solutions: [["json", "JSON", "srj"], ["xml", "XML", "srx"], ["csv", "CSV", "csv"], ["tsv", "TSV", "tsv"]],
    graph: [["ttl", "Turtle", "ttl"], ["nt", "N-Triples", "nt"], ["jsonld", "JSON-LD", "jsonld"], ["rdfxml", "RDF/XML", "rdf"]],
  };
  FORMATS.boolean = FORMATS.solutions;
  const RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

  const editor = window.KGSparqlEditor
    ? window.KGSparqlEditor.create(textarea, { prefixes: known, termSearch: form.dataset.termSearch, onRun: run })
    : plainEditor();

  function plainEditor() {
    textarea.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); }
    });
    return { getValue: function () { return textarea.value; }, setValue: function (t) { textarea.value = t; } };
  }

  function declared(text) {
    const out = {};
    const re = /\bPREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>/gi;
    let m;
    while ((m = re.exec(text)) !== null) out[m[1] || ""] = m[2];
    return out;
  }

  // IRI → "prefix:local" with the longest namespace that leaves a plain local name, else the IRI itself.
  function compactor(prefixes) {
    const entries = Object.keys(prefixes).map(function (k) { return [k, prefixes[k]]; })
      .filter(function (e) { return e[1]; })
      .sort(function (a, b) { return b[1].length - a[1].length; });
    return function (iri) {
      for (const [name, ns] of entries) {
        if (iri.startsWith(ns) && /^[\w-]([\w.-]*[\w-])?$|^$/.test(iri.slice(ns.length))) return name + ":" + iri.slice(ns.length);
      }
      return iri;
    };
  }

  // Text with a line-break opportunity after each / # ? & (long IRIs wrap there, never mid-word).
  function breakable(el, text) {
    text.split(/(?<=[\/#?&])/).forEach(function (part, i) {
      if (i) el.appendChild(document.createElement("wbr"));
      el.appendChild(document.createTextNode(part));
    });
  }

  function cell(term, compact) {
    const td = document.createElement("td");
    if (!term) return td;
    if (term.type === "uri") {
      const a = document.createElement("a");
      a.href = "/resource?iri=" + encodeURIComponent(term.value);
      breakable(a, compact(term.value));
      a.title = term.value;
      td.appendChild(a);
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else {
      td.textContent = term.value;
      const note = term["xml:lang"] ? "@" + term["xml:lang"] : term.datatype ? compact(term.datatype) : "";
      if (note) {
        const dt = document.createElement("span");
        dt.className = "dt";
        dt.textContent = " " + note;
        td.appendChild(dt);
      }
    }
    return td;
  }

  // A graph answered as JSON-LD (expanded node objects) → subject / predicate / object rows.
  function triples(doc) {
    const nodes = Array.isArray(doc) ? doc : (doc["@graph"] || []);
    const rows = [];
    function term(v) {
      if ("@id" in v) return v["@id"].startsWith("_:") ? { type: "bnode", value: v["@id"].slice(2) } : { type: "uri", value: v["@id"] };
      const t = { type: "literal", value: String(v["@value"]) };
      if (v["@language"]) t["xml:lang"] = v["@language"];
      else if (v["@type"]) t.datatype = v["@type"];
      return t;
    }
    nodes.forEach(function (node) {
      const s = term({ "@id": node["@id"] });
      Object.keys(node).forEach(function (p) {
        if (p === "@id") return;
        [].concat(node[p]).forEach(function (v) {
          if (p === "@type") rows.push([s, { type: "uri", value: RDF_TYPE }, term({ "@id": v })]);
          else rows.push([s, { type: "uri", value: p }, term(v)]);
        });
      });
    });
    return rows;
  }

  function pagedTable(vars, rows, compact) {
    let size = PAGE_SIZES[1];
    let page = 0;
    const wrap = document.createElement("div");
    const table = document.createElement("table");
    table.className = "results";
    const head = table.createTHead().insertRow();
    vars.forEach(function (v) { const th = document.createElement("th"); th.textContent = v; head.appendChild(th); });
    const body = table.createTBody();
    const pager = document.createElement("nav");
    pager.className = "pager";
    pager.setAttribute("aria-label", "result pages");
    const prev = button("‹ Previous", function () { page -= 1; draw(); });
    const next = button("Next ›", function () { page += 1; draw(); });
    const info = document.createElement("span");
    info.className = "page-info";
    const sizes = document.createElement("select");
    sizes.setAttribute("aria-label", "rows per page");
    PAGE_SIZES.forEach(function (n) {
      const o = document.createElement("option");
      o.value = n; o.textContent = n + " per page"; o.selected = n === size;
      sizes.appendChild(o);
    });
    sizes.addEventListener("change", function () { size = Number(sizes.value); page = 0; draw(); });
    pager.append(prev, info, next, sizes);
    function button(label, onClick) {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = label; b.addEventListener("click", onClick);
      return b;
    }
    function draw() {
      const pages = Math.max(1, Math.ceil(rows.length / size));
      page = Math.min(Math.max(page, 0), pages - 1);
      body.textContent = "";
      rows.slice(page * size, (page + 1) * size).forEach(function (r) {
        const tr = body.insertRow();
        r.forEach(function (t) { tr.appendChild(cell(t, compact)); });
      });
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
      info.textContent = "rows " + (rows.length ? page * size + 1 : 0) + "–" + Math.min(rows.length, (page + 1) * size) +
        " of " + rows.length + " · page " + (page + 1) + " of " + pages;
      pager.hidden = rows.length <= PAGE_SIZES[0];
    }
    draw();
    wrap.append(pager, table);
    return wrap;
  }

  function showDownloads(kind, query) {
    downloads.textContent = "Download: ";
    FORMATS[kind].forEach(function (f, i) {
      const a = document.createElement("a");
      a.href = form.action + "?format=" + f[0] + "&query=" + encodeURIComponent(query);
      a.download = "query-results." + f[2];
      a.textContent = f[1];
      a.className = "download";
      if (i) downloads.append(" · ");
      downloads.appendChild(a);
    });
    downloads.hidden = false;
  }

  function shareable(query) {
    const url = form.action + "?query=" + encodeURIComponent(query);
    history.replaceState(null, "", url);
    share.href = url;
    share.hidden = false;
  }

  function run() {
    const query = editor.getValue();
    status.textContent = "running…";
    results.textContent = "";
    downloads.hidden = true;
    shareable(query);
    const started = performance.now();
    fetch(form.action, {
      method: "POST",
      headers: { "Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json, application/ld+json;q=0.9" },
      body: query,
    }).then(function (r) {
      const ctype = r.headers.get("Content-Type") || "";
      return (ctype.indexOf("json") >= 0 ? r.json() : r.text()).then(function (body) {
        return { ok: r.ok, body: body, ctype: ctype, cut: r.headers.get("X-KG-Result-Truncated") === "true", cap: r.headers.get("X-KG-Result-Cap") };
      });
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
      const compact = compactor(Object.assign({}, known, declared(query)));
      const cut = res.cut ? " (cut to the first " + res.cap + "; add LIMIT/OFFSET or download)" : "";
      if (res.body && typeof res.body === "object" && "boolean" in res.body) {
        const p = document.createElement("p");
        p.className = "ask";
        p.textContent = String(res.body.boolean);
        results.appendChild(p);
        status.textContent = "answered in " + ms + " ms";
        showDownloads("boolean", query);
      } else if (res.ctype.indexOf("ld+json") >= 0) {
        const rows = triples(res.body);
        results.appendChild(pagedTable(["subject", "predicate", "object"], rows, compact));
        status.textContent = rows.length + " triples in " + ms + " ms" + cut;
        showDownloads("graph", query);
      } else {
        const vars = res.body.head.vars;
        const rows = res.body.results.bindings.map(function (b) { return vars.map(function (v) { return b[v]; }); });
        results.appendChild(pagedTable(vars, rows, compact));
        status.textContent = rows.length + " rows in " + ms + " ms" + cut;
        showDownloads("solutions", query);
      }
    }).catch(function (err) { status.textContent = "failed: " + err; });
  }

  document.getElementById("example").addEventListener("change", function (e) {
    const q = examples.find(function (x) { return x.name === e.target.value; });
    if (q) editor.setValue(q.text);
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
  if (form.dataset.autorun) run();
})();
