/* Widget part: configuration, layout, conversation, streaming. */
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

const storage = {
  get() { try { return localStorage.getItem(storageKey); } catch { return null; } },
  set(v) { try { v ? localStorage.setItem(storageKey, v) : localStorage.removeItem(storageKey); } catch { /* private mode */ } },
};

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
// The visible text is the accessible name (WCAG 2.5.3): no aria-label that says something else.
const restartButton = h("button", { class: "restart", type: "button", title: "Start a new conversation", on: { click: restart } }, "New chat");
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
const stopButton = h("button", { type: "button", class: "stop", hidden: true, on: { click: () => controller && controller.abort() } }, "Stop");
composer.append(stopButton);
const readerTitle = h("h3", { id: "advisor-reader-title", tabindex: "-1" });
const readerText = h("div", { class: "reader-text" });
const readerBack = h("button", { type: "button", class: "back", on: { click: () => closeReader() } }, "Back to the conversation");
// The back button and the title stay in view; the text scrolls (to the cited section first).
const reader = h("section", { class: "reader", hidden: true, "aria-labelledby": readerTitle.id },
  h("div", { class: "reader-head" }, readerBack, readerTitle), readerText);
const body = h("div", { class: "body" }, h("p", { class: "greeting" }, cfg.greeting), initiativeNote, initiativeForm, messages, suggestions, errorBox);
const panel = h("section", {
  class: "panel", id: ids.panel, role: cfg.inline ? "region" : "dialog", "aria-modal": cfg.inline ? false : "true",
  "aria-labelledby": ids.title, hidden: !cfg.inline, on: { keydown: onPanelKey },
}, h("div", { class: "bar" }, h("h2", { id: ids.title }, cfg.title), restartButton, closeButton), body, reader, composer, live);
for (const ev of ["wheel", "touchstart", "keydown"]) body.addEventListener(ev, () => { pinned = null; }, { passive: true });
const frame = h("div", { class: `frame ${cfg.inline ? "inline" : "floating"} ${cfg.left ? "left" : "right"}` }, panel, launcher);
root.append(stylesheet, frame);

// -- State ----------------------------------------------------------------------------------------
let conversationId = storage.get();
let pendingInitiative = "";
let busy = false;
let restored = false;
let controller = null;
let pinned = null; // the question kept at the top while its answer grows, until the visitor scrolls
let readerOpener = null;

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
  if (cfg.inline && !(event.key === "Escape" && (!reader.hidden || !assessView.hidden))) return;
  if (event.key === "Escape") {
    event.preventDefault();
    if (!reader.hidden) closeReader(); else if (!assessView.hidden) closeAssessment(); else close();
    return;
  }
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
  const el = h("div", { class: "msg user" }, h("span", { class: "sr-only" }, "You: "), h("p", {}, text));
  messages.append(el);
  return el;
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
  if (pinned) scrollToStart(pinned);
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
  // An abstention says so in its own text: shown once, as a notice, not followed by another.
  if (done.abstained) state.el.classList.add("abstained");
  else if (done.fallback) state.el.append(h("p", { class: "notice fallback" }, "The language model was unavailable: this answer was assembled directly from the guidance passages."));
  else if (done.grounded === false) state.el.append(h("p", { class: "notice" }, "Some citation markers could not be matched to a source and were removed."));
  if (state.citations.length) {
    state.el.append(h("div", { class: "sources" }, h("h3", { id: `advisor-sources-${state.index}` }, "Sources"),
      h("ol", { "aria-labelledby": `advisor-sources-${state.index}` }, state.citations.map((c) => h("li", {},
        h("details", { "data-n": c.n },
          h("summary", {}, `[${c.n}] ${c.title}`, c.section ? h("span", { class: "section" }, ` — ${c.section}`) : null),
          h("p", { class: "snippet" }, c.snippet || ""),
          h("button", { type: "button", class: "read", on: { click: (e) => openDocument(c, e.currentTarget) } }, "Read the whole document"),
          isWebUrl(c.source) ? h("a", { href: c.source, target: "_blank", rel: "noopener noreferrer" }, "Open the original") : null))))));
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
// A new answer is read from its start: the question that led to it goes to the top of the panel.
function scrollToStart(el) { body.scrollTop += el.getBoundingClientRect().top - body.getBoundingClientRect().top - 8; }
// What a screen reader hears when an answer is done: a short status, never the whole text (which is
// in the conversation, where it can be read at the reader's own pace).
function spoken(state) {
  const count = (n, one) => (n ? `${n} ${one}${n === 1 ? "" : "s"}` : "");
  const parts = [count(state.content.querySelectorAll("li").length, "step"), count(state.citations.length, "source")];
  return ["Answer ready", ...parts.filter(Boolean)].join(", ") + ".";
}

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
  controller = new AbortController();
  const hadFocus = root.activeElement === sendButton;
  sendButton.hidden = true;
  stopButton.hidden = false;
  if (hadFocus) stopButton.focus();
  showError("");
  const asked = addUser(text);
  showStep();
  const state = addAssistant();
  pinned = asked;
  scrollToStart(asked);
  state.content.append(h("p", { class: "typing" }, "Advisor is thinking…"));
  announce("Advisor is answering…");
  await assessmentJoined();
  const payload = { message: text, stream: true };
  if (conversationId) payload.conversation_id = conversationId;
  else if (pendingInitiative) payload.initiative = pendingInitiative;
  try {
    const res = await fetch(`${base}/v1/chat`, { method: "POST", headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }), body: JSON.stringify(payload), signal: controller.signal });
    if (!res.ok) {
      if (res.status === 404 && conversationId) { conversationId = null; storage.set(null); }
      throw new Error(await failure(res));
    }
    await readStream(res, state);
  } catch (err) {
    if (err.name === "AbortError") stopped(state);
    else {
      state.el.remove();
      showError(err instanceof TypeError ? "Advisor could not be reached from this page." : err.message);
      announce(errorBox.textContent);
    }
  } finally {
    busy = false;
    controller = null;
    const hadFocus = root.activeElement === stopButton;
    stopButton.hidden = true;
    sendButton.hidden = false;
    showStep();
    if (hadFocus) question.focus();
  }
}
// Stopped by the visitor: what had arrived stays, marked as cut short.
function stopped(state) {
  state.el.removeAttribute("aria-busy");
  if (!state.text.trim()) state.el.remove();
  else { state.render(); state.el.append(h("p", { class: "notice" }, "You stopped this answer; it is incomplete.")); }
  announce("Stopped.");
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
    attachAssessment();
    finishAnswer(state, event);
    announce(event.abstained ? "No answer: the guidance does not cover this question." : spoken(state));
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
  forgetAssessment();
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
