// The SPARQL editor of the query page: CodeMirror 6 with the SPARQL mode of @codemirror/legacy-modes,
// keyword / prefix / term completion and Ctrl/Cmd+Enter to run. Bundled by ./build.sh into
// kg/serve/static/sparql-editor.js, which defines window.KGSparqlEditor.create(textarea, options).
// The page logic (running, results, paging, downloads) stays in kg/serve/static/sparql.js.
import { EditorState, Prec } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, drawSelection, highlightActiveLine, highlightActiveLineGutter,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { StreamLanguage, syntaxHighlighting, bracketMatching } from "@codemirror/language";
import { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { classHighlighter } from "@lezer/highlight";
import { sparql } from "@codemirror/legacy-modes/mode/sparql";

const KEYWORDS = [
  "PREFIX", "BASE", "SELECT", "DISTINCT", "REDUCED", "CONSTRUCT", "DESCRIBE", "ASK", "FROM", "NAMED", "WHERE",
  "ORDER BY", "GROUP BY", "HAVING", "LIMIT", "OFFSET", "FILTER", "OPTIONAL", "GRAPH", "UNION", "MINUS", "VALUES",
  "BIND", "SERVICE", "EXISTS", "NOT EXISTS", "COUNT", "SAMPLE", "GROUP_CONCAT", "STR", "LANG", "LANGMATCHES",
  "REGEX", "CONTAINS", "STRSTARTS", "LCASE", "UCASE", "DATATYPE", "BOUND", "IRI", "COALESCE", "IF", "ASC", "DESC",
];
const PREFIX_DECL = /\bPREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>/gi;

/** The prefixes a query declares, name → namespace IRI. */
export function declaredPrefixes(text) {
  const out = {};
  for (const m of text.matchAll(PREFIX_DECL)) out[m[1] || ""] = m[2];
  return out;
}

/** A change that declares `name` at the top of the query (after its last PREFIX line) if it is missing. */
function declareChange(doc, name, iri) {
  const text = doc.toString();
  if (name in declaredPrefixes(text)) return null;
  let at = 0;
  for (const m of text.matchAll(PREFIX_DECL)) at = m.index + m[0].length;
  if (at > 0) return { from: at, insert: "\nPREFIX " + name + ": <" + iri + ">" };
  return { from: 0, insert: "PREFIX " + name + ": <" + iri + ">\n" };
}

/** Insert `text` at [from, to) and declare the prefix it uses, in one transaction. */
function applyWithPrefix(text, prefix, known) {
  return (view, completion, from, to) => {
    const list = [{ from, to, insert: text }];
    if (prefix !== null && known[prefix]) {
      const decl = declareChange(view.state.doc, prefix, known[prefix]);
      if (decl) list.push(decl);
    }
    const changes = view.state.changes(list);
    view.dispatch({ changes, selection: { anchor: changes.mapPos(to, 1) }, scrollIntoView: true, userEvent: "input.complete" });
  };
}

/** Compact an IRI with the query's prefixes, then the known ones: [text, prefix or null]. */
function compact(iri, declared, known) {
  for (const table of [declared, known]) {
    let best = null;
    for (const [name, ns] of Object.entries(table)) {
      if (table === known && name in declared) continue; // the query gave this name another namespace
      if (ns && iri.startsWith(ns) && /^[\w-]*$/.test(iri.slice(ns.length)) && (!best || ns.length > best[1].length)) best = [name, ns];
    }
    if (best) return [best[0] + ":" + iri.slice(best[1].length), best[0]];
  }
  return ["<" + iri + ">", null];
}

/** Whether the cursor is inside a string, an <IRI> or a comment (no completion there). */
function inLiteralOrIri(context) {
  const line = context.state.doc.lineAt(context.pos);
  let quote = null;
  let iri = false;
  for (const ch of line.text.slice(0, context.pos - line.from)) {
    if (quote) { if (ch === quote) quote = null; }
    else if (iri) { if (ch === ">") iri = false; }
    else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "<") iri = true;
    else if (ch === "#") return true;
  }
  return quote !== null || iri;
}

function keywordSource(context) {
  const word = context.matchBefore(/[A-Za-z_]+/);
  if (!word || (word.from === word.to && !context.explicit) || inLiteralOrIri(context)) return null;
  const prev = context.state.sliceDoc(word.from - 1, word.from);
  if (prev === "?" || prev === "$" || prev === ":") return null;
  return { from: word.from, options: KEYWORDS.map((k) => ({ label: k, type: "keyword", boost: -1 })), validFor: /^[A-Za-z_]*$/ };
}

function prefixSource(known) {
  return (context) => {
    if (inLiteralOrIri(context)) return null;
    const line = context.state.doc.lineAt(context.pos);
    const before = line.text.slice(0, context.pos - line.from);
    const decl = /PREFIX\s+([\w-]*):?$/i.exec(before);
    if (decl) { // in a declaration: complete the whole "name: <iri>"
      const from = context.pos - decl[1].length - (before.endsWith(":") ? 1 : 0);
      return {
        from,
        options: Object.entries(known).map(([name, iri]) => ({ label: name + ": <" + iri + ">", type: "namespace", detail: "prefix" })),
      };
    }
    const word = context.matchBefore(/[A-Za-z][\w-]*:?/);
    if (!word || (word.to - word.from < 2 && !context.explicit)) return null;
    const prev = context.state.sliceDoc(word.from - 1, word.from);
    if (prev === "?" || prev === "$" || prev === ":" || /\w/.test(prev)) return null;
    return {
      from: word.from,
      options: Object.entries(known).map(([name, iri]) => ({
        label: name + ":", type: "namespace", detail: iri, apply: applyWithPrefix(name + ":", name, known),
      })),
      validFor: /^[A-Za-z][\w-]*:?$/,
    };
  };
}

/** Ontology terms by label from the term index: a bare word ("musculus"), or the local part of a prefixed
 * name ("obo:muscu", then only terms in that namespace). Inserts the compact IRI and declares its prefix. */
function termSource(url, known) {
  return async (context) => {
    const word = context.matchBefore(/(?:[A-Za-z][\w-]*:)?[A-Za-z][\w-]*/);
    if (!word || inLiteralOrIri(context)) return null;
    const prev = context.state.sliceDoc(word.from - 1, word.from);
    if (prev === "?" || prev === "$" || prev === ":" || prev === "@") return null;
    const text = context.state.sliceDoc(word.from, word.to);
    const colon = text.indexOf(":");
    const declared = declaredPrefixes(context.state.doc.toString());
    const ns = colon < 0 ? null : (declared[text.slice(0, colon)] || known[text.slice(0, colon)]);
    const typed = text.slice(colon + 1);
    if (typed.length < 3 || (colon >= 0 && !ns)) return null;
    if (/^[A-Z_]+$/.test(typed) && KEYWORDS.some((k) => k.startsWith(typed))) return null; // a keyword being typed
    await new Promise((resolve) => setTimeout(resolve, 120)); // let typing settle before asking the server
    if (context.aborted) return null;
    let docs = [];
    try {
      const r = await fetch(url + "?rows=" + (ns ? 50 : 10) + "&fieldList=iri,label,obo_id,ontology_name&q=" + encodeURIComponent(typed),
        { headers: { Accept: "application/json" } });
      if (!r.ok) return null;
      docs = (await r.json()).response.docs;
    } catch (e) {
      return null;
    }
    if (ns) docs = docs.filter((d) => d.iri.startsWith(ns)).slice(0, 10);
    if (context.aborted || !docs.length) return null;
    return {
      from: word.from,
      filter: false,
      options: docs.map((d, i) => {
        const [iri, prefix] = compact(d.iri, declared, known);
        return {
          label: d.label, detail: iri + " · " + d.ontology_name, type: "constant", boost: 10 - i,
          apply: applyWithPrefix(iri, prefix, known),
        };
      }),
    };
  };
}

const theme = EditorView.baseTheme({
  "&": { border: "1px solid #bbb", borderRadius: "4px", fontSize: "14px", background: "#fff" },
  "&.cm-focused": { outline: "2px solid #5b8def" },
  ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", minHeight: "16em", maxHeight: "60vh" },
  ".tok-keyword": { color: "#7a3e9d", fontWeight: "bold" },
  ".tok-variableName": { color: "#0b6e4f" },
  ".tok-atom": { color: "#1a5fb4" },
  ".tok-string": { color: "#a3461f" },
  ".tok-number": { color: "#a3461f" },
  ".tok-comment": { color: "#6a737d", fontStyle: "italic" },
  ".tok-meta": { color: "#8a6d00" },
  ".tok-operator": { color: "#555" },
});

/**
 * Replace `textarea` with an editor that keeps the textarea's value in step (so a plain form post still works).
 * options: prefixes (name → IRI), termSearch (URL of an OLS-style /select), onRun (called on Ctrl/Cmd+Enter).
 */
export function create(textarea, options = {}) {
  const known = options.prefixes || {};
  const run = () => { if (options.onRun) options.onRun(); return true; };
  const view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), history(), drawSelection(), highlightActiveLine(),
        bracketMatching(), closeBrackets(), EditorView.lineWrapping,
        StreamLanguage.define(sparql), syntaxHighlighting(classHighlighter), theme,
        autocompletion({
          override: [keywordSource, prefixSource(known)].concat(options.termSearch ? [termSource(options.termSearch, known)] : []),
          icons: false,
        }),
        Prec.highest(keymap.of([{ key: "Mod-Enter", run }])),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap]),
        EditorView.updateListener.of((u) => { if (u.docChanged) textarea.value = u.state.doc.toString(); }),
        EditorView.contentAttributes.of({ "aria-label": textarea.getAttribute("aria-label") || "SPARQL query" }),
      ],
    }),
  });
  textarea.style.display = "none";
  textarea.parentNode.insertBefore(view.dom, textarea.nextSibling);
  return {
    view,
    getValue: () => view.state.doc.toString(),
    setValue: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    focus: () => view.focus(),
  };
}
