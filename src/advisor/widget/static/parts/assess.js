/* Widget part: the readiness assessment. The visitor describes the initiative, sees what was
   understood, answers the open questions one at a time, then reads a scorecard whose actions cite
   the guidance like answers do. The assessment is kept with the conversation, whose answers use it. */
// -- Readiness assessment -------------------------------------------------------------------------
const assessKey = `${storageKey}:assessment`;
let assessment = null; // the service's last reply for this visitor's assessment
let pendingQuestions = [];
let chosen = {};
let scorecardSeen = false; // what moved is worth showing only against a scorecard the visitor saw
const assessTitle = h("h3", { id: "advisor-assess-title", tabindex: "-1" }, "Assess my initiative");
const assessStage = h("div", { class: "assess-stage" });
const assessView = h("section", { class: "assess", hidden: true, "aria-labelledby": assessTitle.id },
  h("div", { class: "assess-head" },
    h("button", { type: "button", class: "back", on: { click: () => closeAssessment() } }, "Back to the conversation"),
    assessTitle),
  assessStage);
const assessButton = h("button", { type: "button", class: "assess-start", on: { click: () => openAssessment() } }, "Assess my initiative");
body.insertBefore(assessButton, initiativeNote);
panel.insertBefore(assessView, reader);

function assessStorage(id) {
  try { if (id === undefined) return localStorage.getItem(assessKey); id ? localStorage.setItem(assessKey, id) : localStorage.removeItem(assessKey); } catch { /* private mode */ }
  return null;
}
async function assessCall(method, path, payload) {
  try {
    const res = await fetch(base + path, { method, headers: headers(payload ? { "Content-Type": "application/json" } : {}), body: payload ? JSON.stringify(payload) : undefined });
    return res.ok ? { ok: true, json: await res.json() } : { ok: false, status: res.status, reason: await failure(res) };
  } catch {
    return { ok: false, reason: "Advisor could not be reached from this page." };
  }
}
function showAssessStage(...children) {
  assessStage.replaceChildren(...children);
  showError("");
}
async function openAssessment() {
  body.hidden = composer.hidden = true;
  assessView.hidden = false;
  const saved = assessStorage();
  if (saved && !assessment) {
    const reply = await assessCall("GET", `/v1/assessments/${encodeURIComponent(saved)}`);
    if (reply.ok) assessment = reply.json; else assessStorage(null);
  }
  if (assessment) showScorecard(); else describeStage();
  assessTitle.focus({ preventScroll: true });
}
function closeAssessment() {
  assessView.hidden = true;
  body.hidden = false;
  showStep();
  assessButton.focus();
}
function errorLine() { return h("p", { class: "error", role: "alert", hidden: true }); }
function fail(line, text) { line.textContent = text; line.hidden = false; announce(text); }

function describeStage() {
  const input = h("textarea", { id: "advisor-assess-initiative", rows: 4, maxlength: cfg.maxChars,
    placeholder: "e.g. a churn model, data in three CRMs, two data scientists, no MLOps yet" });
  input.value = pendingInitiative || (initiativeNote.hidden ? "" : initiativeNote.textContent.replace(/^Your initiative: /, ""));
  const line = errorLine();
  const form = h("form", { class: "assess-form", on: { submit: async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) { fail(line, "Describe the initiative first: what it is for, where the data is, who is on the team."); input.focus(); return; }
    const payload = { initiative: text };
    if (conversationId) payload.conversation_id = conversationId;
    const reply = await assessCall("POST", "/v1/assessments", payload);
    if (!reply.ok) { fail(line, reply.reason); return; }
    assessment = reply.json;
    assessStorage(assessment.id);
    chosen = {};
    pendingQuestions = [...assessment.scorecard.open_questions];
    understoodStage();
  } } },
    h("label", { for: input.id }, "Describe your initiative"),
    h("p", { class: "hint", id: "advisor-assess-hint" }, "Its goal, data, team, infrastructure and constraints, in your own words. Then a few short questions fill the gaps."),
    input, line, h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Start the assessment")));
  input.setAttribute("aria-describedby", "advisor-assess-hint");
  showAssessStage(form);
  input.focus();
}
function understoodStage() {
  const facts = assessment.scorecard.topics.flatMap((t) => t.facts.map((f) => [f, t]));
  const heading = h("h4", { tabindex: "-1" }, "What we understood");
  const list = facts.length
    ? h("ul", { class: "understood" }, facts.map(([fact, t]) => h("li", {}, `“${fact}”: ${topicName(t.topic)} ${t.label}`)))
    : h("p", {}, "Nothing we could score yet: the questions will cover it.");
  const next = pendingQuestions.length
    ? h("button", { type: "button", class: "primary", on: { click: () => questionStage(0) } }, `Answer ${pendingQuestions.length} short questions`)
    : h("button", { type: "button", class: "primary", on: { click: () => showScorecard() } }, "Show my scorecard");
  // What was read from the description can be corrected: those questions first, answers preselected.
  const read = assessment.answers.filter((a) => a.source === "read");
  const correct = read.length ? h("button", { type: "button", on: { click: () => {
    for (const a of read) chosen[a.question] = a.choice;
    const ids = new Set(read.map((a) => a.question));
    pendingQuestions = [...assessment.questions.filter((q) => ids.has(q.id)), ...pendingQuestions.filter((q) => !ids.has(q.id))];
    questionStage(0);
  } } }, "Correct what we understood") : null;
  showAssessStage(heading, list, h("div", { class: "row wrap" }, next, correct));
  heading.focus();
  announce(`Understood ${facts.length} facts from your description.`);
}
function questionStage(index) {
  if (index >= pendingQuestions.length) { submitAnswers(); return; }
  const q = pendingQuestions[index];
  const name = `advisor-q-${q.id}`;
  const line = errorLine();
  const options = q.choices.map((c, i) => h("label", { class: "choice" },
    h("input", { type: "radio", name, value: c.id, id: `${name}-${i}`, checked: chosen[q.id] === c.id }), h("span", {}, c.label)));
  const progress = h("p", { class: "hint" }, `Question ${index + 1} of ${pendingQuestions.length} · ${topicName(q.topic)}`);
  const legend = h("legend", {}, q.text);
  const form = h("form", { class: "assess-form", on: { submit: (e) => {
    e.preventDefault();
    const picked = form.querySelector("input:checked");
    if (!picked) { fail(line, "Choose an answer, or skip the question."); return; }
    chosen[q.id] = picked.value;
    questionStage(index + 1);
  } } },
    progress, h("fieldset", {}, legend, options), line,
    h("div", { class: "row wrap" },
      h("button", { type: "submit", class: "primary" }, index + 1 < pendingQuestions.length ? "Next" : "Finish"),
      h("button", { type: "button", on: { click: () => questionStage(index + 1) } }, "Skip"),
      h("button", { type: "button", on: { click: () => submitAnswers() } }, "Show my scorecard now")));
  showAssessStage(form);
  (form.querySelector("input:checked") || form.querySelector("input")).focus();
}
async function submitAnswers() {
  if (Object.keys(chosen).length) {
    showAssessStage(h("p", { class: "typing", role: "status" }, "Scoring…"));
    const reply = await assessCall("PATCH", `/v1/assessments/${encodeURIComponent(assessment.id)}`, { answers: chosen });
    if (!reply.ok) { const line = errorLine(); showAssessStage(line); fail(line, reply.reason); return; }
    assessment = reply.json;
  }
  showScorecard();
}
// After the visitor's first question, the assessment joins the new conversation, whose answers use it;
// the next question waits for that (joining), so its answer already does.
let joining = null;
function attachAssessment() {
  if (!assessment || assessment.conversation_id || !conversationId || joining) return;
  joining = assessCall("PATCH", `/v1/assessments/${encodeURIComponent(assessment.id)}`, { conversation_id: conversationId })
    .then((reply) => { if (reply.ok) assessment = reply.json; })
    .finally(() => { joining = null; });
}
function assessmentJoined() { return joining || Promise.resolve(); }

function forgetAssessment() { assessment = null; chosen = {}; pendingQuestions = []; assessStorage(null); }
function topicName(id) { return id.replace(/-/g, " "); }
function showScorecard() {
  const card = assessment.scorecard;
  const byNumber = new Map(card.citations.map((c) => [c.n, c]));
  const cite = (n) => {
    const c = byNumber.get(n);
    return c ? h("button", { type: "button", class: "cite", "aria-label": `Source ${n}: ${c.title}`, on: { click: (e) => openDocument(c, e.currentTarget) } }, `[${n}]`) : null;
  };
  const groups = new Map();
  for (const t of card.topics) { if (!groups.has(t.group)) groups.set(t.group, []); groups.get(t.group).push(t); }
  const heading = h("h4", { tabindex: "-1" }, "Your readiness");
  const changes = scorecardSeen && assessment.changes.length
    ? [h("p", { class: "hint" }, "Since your last scorecard:"),
      h("ul", { class: "changes" }, assessment.changes.map((c) => h("li", {}, `${topicName(c.topic)}: ${c.before ?? "not assessed"} → ${c.after ?? "not assessed"}`)))]
    : [];
  scorecardSeen = true;
  // At a glance: one coloured cell per topic, in the groups' order; the tiles below explain each.
  const overview = h("ul", { class: "overview", "aria-label": "Readiness by topic" }, card.topics.map((t) =>
    h("li", { class: `cell level-${t.level || 0}` }, h("span", {}, topicName(t.topic)), h("strong", {}, t.level ? `${t.level}/4` : "?"))));
  const grid = h("div", { class: "scorecard" }, [...groups].map(([group, topics]) => h("section", { class: "group" },
    h("h5", {}, group),
    topics.map((t) => h("div", { class: `tile level-${t.level || 0}` },
      h("p", { class: "tile-head" }, h("strong", {}, topicName(t.topic)), " ",
        h("span", { class: "level" }, t.level ? `${t.label}, ${t.level} of 4` : "not assessed")),
      h("div", { class: "meter", "aria-hidden": "true" }, [1, 2, 3, 4].map((n) => h("span", { class: t.level && n <= t.level ? "on" : "" }))),
      t.facts.length ? h("p", { class: "facts" }, "You said: ", t.facts.map((f) => `“${f}”`).join("; ")) : null,
      t.actions.length ? h("ol", { class: "actions" }, t.actions.slice(0, 2).map((a) => h("li", {}, a.text, " ", cite(a.n)))) : null)))));
  const risks = card.risks.length
    ? h("ol", {}, card.risks.map((t) => h("li", {}, h("strong", {}, topicName(t.topic)), `: ${t.label}`, t.facts.length ? ` (you said “${t.facts[0]}”)` : "")))
    : h("p", {}, "No topic is below “mostly ready” on what you told us.");
  const plan = [30, 60, 90].map((days) => {
    const items = card.plan.filter((p) => p.days === days);
    return items.length ? [h("h5", {}, `Next ${days} days`), h("ul", {}, items.map((p) => h("li", {}, p.action.text, " ", cite(p.action.n))))] : [];
  }).flat();
  const again = h("button", { type: "button", on: { click: () => {
    chosen = {};
    pendingQuestions = [...card.open_questions];
    if (!pendingQuestions.length) { describeStage(); return; }
    questionStage(0);
  } } }, card.open_questions.length ? "Answer the open questions" : "Describe it again");
  const fresh = h("button", { type: "button", on: { click: () => { assessment = null; assessStorage(null); describeStage(); } } }, "Start a new assessment");
  showAssessStage(heading, ...changes, overview, grid, h("h4", {}, "The three biggest risks"), risks, h("h4", {}, "Plan"), ...plan, h("div", { class: "row wrap" }, again, fresh));
  heading.focus();
  announce(`Scorecard ready: ${card.risks.length} main risks, ${card.plan.length} planned actions.`);
}
