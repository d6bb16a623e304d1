/* Advisor chat widget: one <script src=".../widget.js" data-advisor-url=... defer> tag embeds it.
 * Plain JavaScript, no dependencies, no build step. Everything is rendered inside a shadow root with
 * DOM APIs and textContent: answer text is never parsed as HTML. */
(() => {
  "use strict";
  const script = document.currentScript || document.querySelector("script[data-advisor-url]");
  if (!script || script.dataset.advisorMounted) return;
  script.dataset.advisorMounted = "1";
  const data = script.dataset;
  const base = (data.advisorUrl || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  const cfg = {
    key: data.widgetKey || "",
    title: data.title || "Ask Advisor",
    greeting: data.greeting || "Ask how to take your AI initiative to production. Answers cite our guidance.",
    accent: data.accent && CSS.supports("color", data.accent) ? data.accent : "",
    left: data.position === "bottom-left",
    inline: data.mode === "inline",
    suggestions: (data.suggestions || "").split("|").map((s) => s.trim()).filter(Boolean).slice(0, 4),
    askInitiative: data.askInitiative !== "false",
    maxChars: Number.parseInt(data.maxChars || "", 10) || 1000,
  };
  const storageKey = `advisor-widget:${base}:${cfg.key ? cfg.key.slice(-6) : "local"}`;
  const FOCUSABLE = "button:not([disabled]), textarea:not([disabled]), input:not([disabled]), a[href], summary";

  // -- DOM helpers: elements from tag + attributes + children; strings become text nodes ---------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value == null) continue;
      if (name === "on") for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
      else if (name === "class") el.className = value;
      else el.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child != null && child !== false) el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }
  // Icons as inline SVG paths: emoji depend on the visitor's fonts.
  const ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    up: "M2 10h4v11H2zM8 21h9.2a2 2 0 0 0 2-1.6l1.6-7.4A2 2 0 0 0 18.8 9.5H14V5a2.5 2.5 0 0 0-2.5-2.5L8 10z",
  };
  function icon(name, flip) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "icon");
    if (flip) svg.setAttribute("transform", "rotate(180)");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }
  const storage = {
    get() { try { return localStorage.getItem(storageKey); } catch { return null; } },
    set(v) { try { v ? localStorage.setItem(storageKey, v) : localStorage.removeItem(storageKey); } catch { /* private mode */ } },
  };

  // -- Markdown subset: paragraphs, lists, bold, italics, code, [n] markers. Nothing else is markup:
  // raw HTML, images and links stay literal text.
  // Underscore emphasis only at word edges, so identifiers such as window.__name stay as written.
  const INLINE = /(\*\*[^*\n]+\*\*|(?<![\w.])__[^_\n]+__(?!\w)|\*[^*\s][^*\n]*\*|(?<![\w.])_[^_\s][^_\n]*_(?!\w)|`[^`\n]+`|\[\d{1,3}(?:\s*,\s*\d{1,3})*\])/;
  function inline(text, cite) {
    const out = [];
    text.split(INLINE).forEach((part, i) => {
      if (!part) return;
      if (i % 2 === 0) out.push(document.createTextNode(part));
      else if (part.startsWith("**") || part.startsWith("__")) out.push(h("strong", {}, inline(part.slice(2, -2), cite)));
      else if (part.startsWith("`")) out.push(h("code", {}, part.slice(1, -1)));
      else if (part.startsWith("[")) part.slice(1, -1).split(",").forEach((n) => out.push(cite(Number(n.trim()))));
      else out.push(h("em", {}, inline(part.slice(1, -1), cite)));
    });
    return out;
  }
  function renderMarkdown(text, cite) {
    const frag = document.createDocumentFragment();
    let list = null, para = null;
    for (const raw of text.replace(/\r\n?/g, "\n").split("\n")) {
      const line = raw.trim();
      const bullet = /^[-*+]\s+(.*)$/.exec(line), numbered = /^(\d{1,3})[.)]\s+(.*)$/.exec(line);
      if (!line) { list = para = null; continue; }
      if (bullet || numbered) {
        const kind = bullet ? "ul" : "ol";
        if (!list || list.tagName.toLowerCase() !== kind) {
          list = h(kind, numbered && numbered[1] !== "1" ? { start: numbered[1] } : {});
          frag.append(list);
        }
        list.append(h("li", {}, inline(bullet ? bullet[1] : numbered[2], cite)));
        para = null;
        continue;
      }
      const heading = /^#{1,6}\s+(.*)$/.exec(line);
      if (heading) { frag.append(h("p", { class: "heading" }, h("strong", {}, inline(heading[1], cite)))); list = para = null; continue; }
      if (list && /^\s/.test(raw)) { list.lastChild.append(" ", ...inline(line, cite)); continue; }
      if (para) para.append(h("br"), ...inline(line, cite));
      else { para = h("p", {}, inline(line, cite)); frag.append(para); list = null; }
    }
    return frag;
  }

  // -- Layout -------------------------------------------------------------------------------------
  const host = h("div", { "data-advisor-widget": "" });
  if (cfg.accent) host.style.setProperty("--advisor-accent", cfg.accent);
  const root = host.attachShadow({ mode: "open" });
  const stylesheet = h("link", { rel: "stylesheet", href: `${base}/widget.css` });
  const ids = { title: "advisor-title", panel: "advisor-panel", live: "advisor-live" };
  const live = h("div", { class: "sr-only", id: ids.live, "aria-live": "polite", "aria-atomic": "true" });
  const errorBox = h("p", { class: "error", role: "alert", hidden: true });
  const launcher = cfg.inline ? null : h("button", {
    class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": ids.panel,
    "aria-label": `Open ${cfg.title}`, on: { click: () => (panel.hidden ? open() : close()) },
  }, icon("chat"), h("span", { class: "launcher-label" }, cfg.title));
  const restartButton = h("button", { class: "restart", type: "button", "aria-label": "Start a new conversation", on: { click: restart } }, "New chat");
  const closeButton = cfg.inline ? null : h("button", { class: "close", type: "button", "aria-label": "Close the chat", on: { click: () => close() } }, "✕");
  const initiativeNote = h("p", { class: "initiative-note", hidden: true });
  const initiativeInput = h("textarea", { id: "advisor-initiative", rows: 3, maxlength: 2000, placeholder: "e.g. a churn model, data in three CRMs, two data scientists, no MLOps yet" });
  const initiativeForm = h("form", { class: "initiative", on: { submit: (e) => { e.preventDefault(); finishInitiative(initiativeInput.value.trim()); } } },
    h("label", { for: "advisor-initiative" }, "Tell us about your initiative"),
    h("p", { class: "hint", id: "advisor-initiative-hint" }, "What is it for, where is the data, who is on the team? Optional, kept with this conversation."),
    initiativeInput,
    h("div", { class: "row" },
      h("button", { type: "submit", class: "primary" }, "Continue"),
      h("button", { type: "button", on: { click: () => finishInitiative("") } }, "Skip")));
  initiativeInput.setAttribute("aria-describedby", "advisor-initiative-hint");
  const messages = h("div", { class: "messages" });
  const suggestions = h("div", { class: "suggestions", role: "group", "aria-label": "Suggested questions" },
    cfg.suggestions.map((q) => h("button", { type: "button", on: { click: () => ask(q) } }, q)));
  const question = h("textarea", { id: "advisor-question", rows: 2, maxlength: cfg.maxChars, placeholder: "Ask a question…",
    on: { keydown: (e) => { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); composer.requestSubmit(); } } } });
  const sendButton = h("button", { type: "submit", class: "primary send" }, "Send");
  const composer = h("form", { class: "composer", on: { submit: (e) => { e.preventDefault(); const q = question.value.trim(); if (q) { question.value = ""; ask(q); } } } },
    h("label", { for: "advisor-question", class: "sr-only" }, "Your question"), question, sendButton);
  const body = h("div", { class: "body" }, h("p", { class: "greeting" }, cfg.greeting), initiativeNote, initiativeForm, messages, suggestions, errorBox);
  const panel = h("section", {
    class: "panel", id: ids.panel, role: cfg.inline ? "region" : "dialog", "aria-modal": cfg.inline ? false : "true",
    "aria-labelledby": ids.title, hidden: !cfg.inline, on: { keydown: onPanelKey },
  }, h("header", {}, h("h2", { id: ids.title }, cfg.title), restartButton, closeButton), body, composer, live);
  const frame = h("div", { class: `frame ${cfg.inline ? "inline" : "floating"} ${cfg.left ? "left" : "right"}` }, panel, launcher);
  root.append(stylesheet, frame);

  // -- State ----------------------------------------------------------------------------------------
  let conversationId = storage.get();
  let pendingInitiative = "";
  let busy = false;
  let restored = false;

  function showStep() {
    const started = Boolean(conversationId) || messages.childElementCount > 0;
    const asking = cfg.askInitiative && !started && !initiativeForm.dataset.done;
    initiativeForm.hidden = !asking;
    composer.hidden = asking;
    suggestions.hidden = asking || started || busy || !cfg.suggestions.length;
  }
  function finishInitiative(text) {
    pendingInitiative = text;
    initiativeForm.dataset.done = "1";
    setInitiativeNote(text);
    showStep();
    question.focus();
  }
  function setInitiativeNote(initiative) {
    const text = typeof initiative === "string" ? initiative : initiative ? Object.values(initiative).join("; ") : "";
    initiativeNote.hidden = !text;
    initiativeNote.replaceChildren(h("strong", {}, "Your initiative: "), text);
  }
  function announce(text) { live.textContent = ""; setTimeout(() => { live.textContent = text; }, 50); }
  function showError(text) { errorBox.textContent = text; errorBox.hidden = !text; }
  function headers(extra) {
    const out = { Accept: "application/json", ...extra };
    if (cfg.key) out.Authorization = `Bearer ${cfg.key}`;
    return out;
  }
  function isOpen() { return !panel.hidden; }
  function open() {
    panel.hidden = false;
    frame.classList.add("open");
    launcher.setAttribute("aria-expanded", "true");
    if (!restored) restore();
    const target = !initiativeForm.hidden ? initiativeInput : question;
    target.focus();
  }
  function close() {
    if (cfg.inline) return;
    panel.hidden = true;
    frame.classList.remove("open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }
  function focusables() {
    return [...panel.querySelectorAll(FOCUSABLE)].filter((el) => el.getClientRects().length > 0);
  }
  function onPanelKey(event) {
    if (cfg.inline) return;
    if (event.key === "Escape") { event.preventDefault(); close(); return; }
    if (event.key !== "Tab") return;
    // Focus trap: Tab and Shift+Tab cycle within the open panel.
    const items = focusables();
    if (!items.length) return;
    const first = items[0], last = items[items.length - 1], active = root.activeElement;
    if (event.shiftKey && (active === first || !panel.contains(active))) { event.preventDefault(); last.focus(); }
    else if (!event.shiftKey && (active === last || !panel.contains(active))) { event.preventDefault(); first.focus(); }
  }

  // -- Messages -------------------------------------------------------------------------------------
  function addUser(text) {
    messages.append(h("div", { class: "msg user" }, h("span", { class: "sr-only" }, "You: "), h("p", {}, text)));
  }
  function addAssistant() {
    const content = h("div", { class: "content" });
    const el = h("div", { class: "msg assistant", "aria-busy": "true" }, h("span", { class: "sr-only" }, "Advisor: "), content);
    messages.append(el);
    const index = messages.childElementCount;
    const state = { el, content, text: "", citations: [], index };
    state.render = () => renderAnswer(state);
    return state;
  }
  function renderAnswer(state) {
    const byNumber = new Map(state.citations.map((c) => [c.n, c]));
    const cite = (n) => {
      const c = byNumber.get(n);
      if (!c) return h("span", { class: "marker" }, `[${n}]`);
      return h("button", { type: "button", class: "cite", "aria-label": `Source ${n}: ${c.title}`, on: { click: () => openSource(state, n) } }, `[${n}]`);
    };
    state.content.replaceChildren(renderMarkdown(state.text, cite));
    scrollDown();
  }
  function openSource(state, n) {
    const details = state.el.querySelector(`details[data-n="${n}"]`);
    if (!details) return;
    details.open = true;
    details.querySelector("summary").focus();
    details.scrollIntoView({ block: "nearest" });
  }
  function isWebUrl(value) {
    try { return ["http:", "https:"].includes(new URL(value).protocol); } catch { return false; }
  }
  function finishAnswer(state, done) {
    state.el.removeAttribute("aria-busy");
    state.text = done.answer ?? state.text;
    state.citations = done.citations || [];
    state.render();
    if (done.abstained) state.el.append(h("p", { class: "notice abstained" }, "Advisor found nothing in its guidance that answers this, so it did not guess. Try rephrasing, or ask about taking an AI initiative to production."));
    else if (done.fallback) state.el.append(h("p", { class: "notice fallback" }, "The language model was unavailable: this answer was assembled directly from the guidance passages."));
    else if (done.grounded === false) state.el.append(h("p", { class: "notice" }, "Some citation markers could not be matched to a source and were removed."));
    if (state.citations.length) {
      state.el.append(h("div", { class: "sources" }, h("h3", { id: `advisor-sources-${state.index}` }, "Sources"),
        h("ol", { "aria-labelledby": `advisor-sources-${state.index}` }, state.citations.map((c) => h("li", {},
          h("details", { "data-n": c.n },
            h("summary", {}, `[${c.n}] ${c.title}`, c.section ? h("span", { class: "section" }, ` — ${c.section}`) : null),
            h("p", { class: "snippet" }, c.snippet || ""),
            isWebUrl(c.source) ? h("a", { href: c.source, target: "_blank", rel: "noopener noreferrer" }, "Open the document")
              : h("p", { class: "path" }, "From ", h("code", {}, c.source))))))));
    }
    if (done.message_id) state.el.append(feedbackFor(done.message_id));
  }
  function feedbackFor(messageId) {
    const comment = h("textarea", { id: `advisor-comment-${messageId}`, rows: 2, maxlength: 2000 });
    let rating = null;
    const thumbs = [["up", "Helpful"], ["down", "Not helpful"]].map(([value, label]) =>
      h("button", { type: "button", class: "thumb", "aria-pressed": "false", "aria-label": label, "data-rating": value,
        on: { click: () => { rating = value; thumbs.forEach((b) => b.setAttribute("aria-pressed", String(b === thumbs[value === "up" ? 0 : 1]))); form.hidden = false; comment.focus(); } } }, icon("up", value === "down")));
    const status = h("span", { class: "status", role: "status" });
    const form = h("form", { class: "comment", hidden: true, on: { submit: async (e) => {
      e.preventDefault();
      const payload = { message_id: messageId, rating };
      if (comment.value.trim()) payload.comment = comment.value.trim();
      const reply = await call("/v1/feedback", payload);
      if (reply.ok) { box.replaceChildren(h("p", { class: "thanks", role: "status" }, "Thanks for your feedback.")); }
      else status.textContent = reply.reason;
    } } }, h("label", { for: comment.id }, "Comment (optional)"), comment, h("button", { type: "submit" }, "Send feedback"), status);
    const box = h("div", { class: "feedback", role: "group", "aria-label": "Feedback on this answer" }, h("span", {}, "Helpful?"), thumbs, form);
    return box;
  }
  function scrollDown() { body.scrollTop = body.scrollHeight; }

  // -- Talking to the service ----------------------------------------------------------------------
  async function failure(res) {
    let reason = `request failed (${res.status})`;
    try { reason = (await res.json()).reason || reason; } catch { /* not JSON */ }
    if (res.status === 429) {
      const wait = res.headers.get("Retry-After");
      return `Too many questions right now: please wait ${wait || "a few"} seconds and try again.`;
    }
    if (res.status === 401 || res.status === 403) return `This page may not use Advisor: ${reason}`;
    return reason;
  }
  async function call(path, payload) {
    try {
      const res = await fetch(base + path, { method: "POST", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify(payload) });
      return res.ok ? { ok: true, json: await res.json() } : { ok: false, reason: await failure(res) };
    } catch {
      return { ok: false, reason: "Advisor could not be reached from this page." };
    }
  }
  async function ask(text) {
    if (busy) return;
    busy = true;
    sendButton.disabled = true;
    showError("");
    addUser(text);
    showStep();
    const state = addAssistant();
    state.content.append(h("p", { class: "typing" }, "Advisor is thinking…"));
    announce("Advisor is answering…");
    const payload = { message: text, stream: true };
    if (conversationId) payload.conversation_id = conversationId;
    else if (pendingInitiative) payload.initiative = pendingInitiative;
    try {
      const res = await fetch(`${base}/v1/chat`, { method: "POST", headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }), body: JSON.stringify(payload) });
      if (!res.ok) {
        if (res.status === 404 && conversationId) { conversationId = null; storage.set(null); }
        throw new Error(await failure(res));
      }
      await readStream(res, state);
    } catch (err) {
      state.el.remove();
      showError(err instanceof TypeError ? "Advisor could not be reached from this page." : err.message);
      announce(errorBox.textContent);
    } finally {
      busy = false;
      sendButton.disabled = false;
      showStep();
    }
  }
  async function readStream(res, state) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "", finished = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (value) buffer += decoder.decode(value, { stream: true });
      const blocks = buffer.replace(/\r\n?/g, "\n").split("\n\n");
      buffer = done ? "" : blocks.pop();
      for (const block of blocks) finished = handleEvent(block, state) || finished;
      if (!finished) state.render();
      if (done) break;
    }
    if (!finished) throw new Error("The answer was cut off; please ask again.");
  }
  function handleEvent(block, state) {
    let kind = "message";
    const lines = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) kind = line.slice(6).trim();
      else if (line.startsWith("data:")) lines.push(line.slice(5).replace(/^ /, ""));
    }
    if (!lines.length) return false;
    const event = JSON.parse(lines.join("\n"));
    if (kind === "delta") state.text += event.text;
    else if (kind === "reset") state.text = "";
    else if (kind === "citations") state.citations = event.citations;
    else if (kind === "error") throw new Error(`Advisor could not answer: ${event.reason}`);
    else if (kind === "done") {
      conversationId = event.conversation_id;
      storage.set(conversationId);
      finishAnswer(state, event);
      announce(`Advisor answered: ${state.content.textContent}`);
      return true;
    }
    return false;
  }
  async function restore() {
    restored = true;
    if (!conversationId) return;
    try {
      const res = await fetch(`${base}/v1/conversations/${encodeURIComponent(conversationId)}`, { headers: headers() });
      if (res.status === 404) { conversationId = null; storage.set(null); showStep(); return; }
      if (!res.ok) throw new Error(await failure(res));
      const conversation = await res.json();
      setInitiativeNote(conversation.initiative);
      for (const m of conversation.messages) {
        if (m.role === "user") { addUser(m.content); continue; }
        const state = addAssistant();
        finishAnswer(state, { ...m, answer: m.content, message_id: m.id });
      }
      showStep();
      scrollDown();
    } catch (err) {
      showError(err instanceof TypeError ? "Advisor could not be reached from this page." : err.message);
    }
  }
  function restart() {
    conversationId = null;
    pendingInitiative = "";
    storage.set(null);
    messages.replaceChildren();
    initiativeInput.value = "";
    delete initiativeForm.dataset.done;
    setInitiativeNote("");
    showError("");
    showStep();
    announce("New conversation started.");
    (initiativeForm.hidden ? question : initiativeInput).focus();
  }

  showStep();
  function mount() {
    const target = cfg.inline && data.target ? document.querySelector(data.target) : null;
    if (target) target.append(host);
    else if (cfg.inline) script.after(host);
    else document.body.append(host);
    if (cfg.inline) restore();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
  // A small hook for tests and host pages: the renderer, and the open/close state.
  window.AdvisorWidget = Object.freeze({ renderMarkdown: (text) => renderMarkdown(text, (n) => h("span", { class: "marker" }, `[${n}]`)), open: () => cfg.inline || open(), close, isOpen });
})();
