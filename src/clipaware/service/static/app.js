// clipaware's page: plain JavaScript, no build step, no CDN. Every piece of user text (queries, paths,
// labels) is put on the page with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

async function api(path, options = {}) {
  const init = { headers: {}, ...options };
  if (init.json !== undefined) {
    init.method = init.method || "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(init.json);
    delete init.json;
  }
  const response = await fetch(path, init);
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = body && body.detail ? body.detail : response.statusText;
    throw new Error(`${body && body.error ? body.error : response.status}: ${detail}`);
  }
  return body;
}

function showError(target, error) {
  target.replaceChildren(el("span", { class: "error", text: String(error.message || error) }));
}

// ------------------------------------------------------------------------------------------ views
function showView(name) {
  for (const tab of document.querySelectorAll(".tab")) {
    tab.setAttribute("aria-pressed", String(tab.dataset.view === name));
  }
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== `view-${name}`;
  if (name === "index") refreshIndex();
}

async function refreshLibrary() {
  try {
    const s = await api("/api/status");
    $("library").textContent = `${s.images} images · ${s.model} · ${s.db}`;
    $("roots").textContent = s.roots.length ? `Folders: ${s.roots.join(", ")}` : "No folders configured.";
  } catch (error) {
    showError($("library"), error);
  }
}

// ----------------------------------------------------------------------------------------- verdict
function markedQuery(query, limitations) {
  // each limitation's evidence words, found in the query, become <mark> ranges
  const lower = query.toLowerCase();
  const ranges = [];
  for (const lim of limitations) {
    for (const words of lim.evidence) {
      const needle = words.toLowerCase();
      if (!needle) continue;
      let at = lower.indexOf(needle);
      while (at !== -1) {
        ranges.push([at, at + needle.length, lim.kind]);
        at = lower.indexOf(needle, at + needle.length);
      }
    }
  }
  ranges.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const out = el("span", { class: "query" });
  let pos = 0;
  for (const [start, end, kind] of ranges) {
    if (start < pos) continue; // overlaps an earlier mark
    out.append(query.slice(pos, start));
    out.append(el("mark", { "data-kind": kind, title: kind, text: query.slice(start, end) }));
    pos = end;
  }
  out.append(query.slice(pos));
  return out;
}

function renderVerdict(analysis) {
  const box = $("verdict");
  if (!analysis.query.trim()) {
    box.replaceChildren();
    return;
  }
  if (analysis.clip_ok) {
    box.replaceChildren(el("div", { class: "verdict ok", "data-verdict": "ok", "data-query": analysis.query },
      el("strong", { text: "✓ CLIP suits this query. " }), markedQuery(analysis.query, [])));
    return;
  }
  const kinds = analysis.limitations.map((l) => l.kind);
  const list = el("ul");
  for (const lim of analysis.limitations) {
    list.append(el("li", { "data-kind": lim.kind },
      el("span", { class: "kind", text: lim.kind }), ` (“${lim.evidence.join("”, “")}”): `,
      lim.explanation, el("br"), el("em", { text: `Instead: ${lim.suggestion}` })));
  }
  const button = el("button", { type: "button", class: "primary", id: "routed", text: "Answer it properly" });
  button.addEventListener("click", () => runSearch(true));
  box.replaceChildren(el("div", { class: "verdict bad", "data-verdict": "limited", "data-query": analysis.query },
    el("strong", { text: `✗ CLIP alone is the wrong tool here: ${kinds.join(", ")}. ` }),
    el("div", {}, markedQuery(analysis.query, analysis.limitations)), list, button));
}

let checkTimer = null;
let checkSeq = 0;
function scheduleCheck() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(async () => {
    const query = $("q").value;
    const seq = ++checkSeq;
    if (!query.trim()) {
      $("verdict").replaceChildren();
      return;
    }
    try {
      const analysis = await api(`/api/check?q=${encodeURIComponent(query)}`);
      if (seq === checkSeq) renderVerdict(analysis);
    } catch (error) {
      showError($("verdict"), error);
    }
  }, 150);
}

// ---------------------------------------------------------------------------------------- results
function hitItem(hit, extra) {
  const name = hit.path.split(/[\\/]/).pop();
  const button = el("button", { type: "button", "data-id": hit.id, "aria-label": `Open ${name}` },
    el("img", { src: `/api/images/${hit.id}/thumbnail`, alt: name, loading: "lazy" }),
    el("span", { class: "score", text: `score ${hit.score.toFixed(3)}` }),
    el("span", { class: "name", text: name }), extra || null);
  button.addEventListener("click", () => openViewer(hit));
  return el("li", { class: "hit" }, button);
}

function renderHits(hits, note) {
  $("results").replaceChildren(...hits.map((h) => hitItem(h, h.answer !== undefined
    ? el("span", { class: "answer-tag", text: `answer: ${say(h.answer)}` }) : null)));
  $("search-note").textContent = note;
}

async function runSearch(routed = false) {
  const text = $("q").value.trim();
  if (!text) return;
  $("search-note").textContent = routed ? "Checking CLIP's candidates through the routes…" : "Searching…";
  try {
    const body = await api("/api/search", { json: { text, k: 24, routed } });
    if (routed) {
      renderHits(body.hits, `${body.hits.length} of ${body.examined} candidates pass (${body.routes.join(", ")})`);
    } else {
      renderHits(body, body.length ? `${body.length} results for “${text}”` : "No results (is the index empty?)");
    }
  } catch (error) {
    showError($("search-note"), error);
  }
}

// ----------------------------------------------------------------------------------------- viewer
let current = null;
let lastFocus = null;

function say(answer) {
  if (answer === true) return "yes";
  if (answer === false) return "no";
  if (answer === null || answer === undefined) return "can't tell";
  return String(answer);
}

function openViewer(hit) {
  current = hit;
  lastFocus = document.activeElement;
  $("viewer-title").textContent = hit.path.split(/[\\/]/).pop();
  $("viewer-path").textContent = hit.path;
  $("viewer-boxes").replaceChildren();
  $("answer").replaceChildren();
  const img = $("viewer-img");
  img.alt = hit.path;
  img.src = `/api/images/${hit.id}/file`;
  $("viewer").hidden = false;
  $("ask-q").focus();
}

function closeViewer() {
  $("viewer").hidden = true;
  current = null;
  if (lastFocus) lastFocus.focus();
}

function boxesOf(answer) {
  // every detection the routes used: counted boxes, relation sides, bound phrases
  const found = [];
  const visit = (value) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") {
      if (Array.isArray(value.box) && value.box.length === 4) found.push(value);
      Object.values(value).forEach((v) => { if (v !== value.box) visit(v); });
    }
  };
  for (const step of answer.evidence) {
    visit(step.counted !== undefined ? step.counted : step);
  }
  return found;
}

function drawBoxes(answer) {
  const svg = $("viewer-boxes");
  const img = $("viewer-img");
  const w = img.naturalWidth || 1;
  const h = img.naturalHeight || 1;
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("preserveAspectRatio", "none");
  const ns = "http://www.w3.org/2000/svg";
  const shapes = [];
  for (const det of boxesOf(answer)) {
    const [x0, y0, x1, y1] = det.box;
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("x", x0); rect.setAttribute("y", y0);
    rect.setAttribute("width", Math.max(1, x1 - x0)); rect.setAttribute("height", Math.max(1, y1 - y0));
    rect.setAttribute("class", "box");
    const label = document.createElementNS(ns, "text");
    const size = Math.max(10, Math.round(w / 28)); // labels scale with the picture, not with its pixels
    label.setAttribute("font-size", size);
    label.setAttribute("x", x0 + 2); label.setAttribute("y", Math.max(size, y0 - 3));
    label.textContent = det.label || "";
    shapes.push(rect, label);
  }
  svg.replaceChildren(...shapes);
  return shapes.length / 2;
}

async function askCurrent(event) {
  event.preventDefault();
  const query = $("ask-q").value.trim();
  if (!current || !query) return;
  const out = $("answer");
  out.replaceChildren(el("span", { class: "muted", text: "Asking…" }));
  try {
    const answer = await api("/api/ask", { json: { id: current.id, query } });
    const img = $("viewer-img");
    if (!img.complete) await new Promise((resolve) => img.addEventListener("load", resolve, { once: true }));
    const boxes = drawBoxes(answer);
    const steps = el("ul");
    for (const step of answer.evidence) {
      const reason = step.reason ? ` — ${step.reason}` : "";
      steps.append(el("li", { text: `${step.route}: “${step.text}” → ${say(step.answer)}${reason}` }));
    }
    out.replaceChildren(
      el("div", { class: "big-answer", id: "answer-value", text: say(answer.answer) }),
      el("p", { class: "muted", text: `via ${answer.routes.join(", ")}; ${boxes} boxes drawn` }), steps,
      ...answer.notes.map((n) => el("p", { class: "muted", text: `note: ${n}` })));
  } catch (error) {
    showError(out, error);
  }
}

async function moreLikeThis() {
  if (!current) return;
  const hit = current;
  closeViewer();
  showView("search");
  $("search-note").textContent = "Looking for similar images…";
  try {
    const hits = await api("/api/similar", { json: { id: hit.id, k: 24 } });
    renderHits(hits, `${hits.length} images like ${hit.path.split(/[\\/]/).pop()}`);
  } catch (error) {
    showError($("search-note"), error);
  }
}

// ------------------------------------------------------------------------------------- duplicates
async function findDuplicates(event) {
  event.preventDefault();
  const threshold = Number($("threshold").value) || 0.95;
  $("dup-note").textContent = "Comparing every pair…";
  try {
    const groups = await api(`/api/duplicates?threshold=${threshold}`);
    $("dup-note").textContent = groups.length
      ? `${groups.length} groups of near-duplicates` : `No near-duplicates at ${threshold}`;
    $("groups").replaceChildren(...groups.map((g) => el("div", { class: "group" },
      el("p", { text: `${g.paths.length} images, similarity at least ${g.min_score.toFixed(3)}` }),
      el("ul", { class: "grid" }, ...g.paths.map((path, i) => hitItem({ path, id: g.ids[i], score: g.min_score }))))));
  } catch (error) {
    showError($("dup-note"), error);
  }
}

// ------------------------------------------------------------------------------------------ index
let indexTimer = null;
function renderIndex(state) {
  const bar = $("index-progress");
  bar.max = Math.max(1, state.total);
  bar.value = state.done;
  $("index-start").disabled = state.running;
  let text;
  if (state.running) text = `Indexing… ${state.done} of ${state.total || "?"} changed files`;
  else if (state.error) text = `Last run failed: ${state.error}`;
  else if (state.report) {
    const r = state.report;
    text = `Done: ${r.added} added, ${r.updated} updated, ${r.removed} removed, ${r.unchanged} unchanged, ` +
      `${r.skipped.length} skipped`;
  } else text = "No index run since the server started.";
  $("index-state").textContent = text;
  $("index-state").dataset.state = state.running ? "running" : state.report ? "done" : state.error ? "error" : "idle";
  $("index-report").textContent = state.report ? state.report.skipped.map((s) => `skipped ${s.path}: ${s.reason}`).join("\n") : "";
}

async function refreshIndex() {
  clearTimeout(indexTimer);
  try {
    const state = await api("/api/index");
    renderIndex(state);
    if (state.running) indexTimer = setTimeout(refreshIndex, 400);
    else refreshLibrary();
  } catch (error) {
    showError($("index-state"), error);
  }
}

async function startIndex() {
  try {
    renderIndex(await api("/api/index", { method: "POST" }));
    refreshIndex();
  } catch (error) {
    showError($("index-state"), error);
  }
}

// ------------------------------------------------------------------------------------------ start
document.addEventListener("DOMContentLoaded", () => {
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => showView(tab.dataset.view));
  $("q").addEventListener("input", scheduleCheck);
  $("search-form").addEventListener("submit", (event) => { event.preventDefault(); runSearch(false); });
  $("viewer-close").addEventListener("click", closeViewer);
  $("viewer").addEventListener("click", (event) => { if (event.target === $("viewer")) closeViewer(); });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape" && !$("viewer").hidden) closeViewer(); });
  $("more-like").addEventListener("click", moreLikeThis);
  $("ask-form").addEventListener("submit", askCurrent);
  $("dup-form").addEventListener("submit", findDuplicates);
  $("index-start").addEventListener("click", startIndex);
  refreshLibrary();
  $("q").focus();
});
