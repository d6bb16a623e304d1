/* Widget part: the whole document behind a citation, read inside the panel. */
// -- Reading a whole source document -------------------------------------------------------------
async function openDocument(citation, opener) {
  showError("");
  let doc;
  try {
    const res = await fetch(`${base}/v1/documents/${encodeURIComponent(citation.doc_id)}`, { headers: headers() });
    if (!res.ok) throw new Error(await failure(res));
    doc = await res.json();
  } catch (err) {
    showError(err instanceof TypeError ? "Advisor could not be reached from this page." : err.message);
    return;
  }
  readerOpener = opener;
  readerTitle.textContent = doc.title;
  const plain = (n) => h("span", { class: "marker" }, `[${n}]`);
  let cited = null;
  readerText.replaceChildren(...doc.sections.map((section) => {
    const part = h("section", {}, section.section ? h("h4", {}, section.section) : null, renderMarkdown(section.text, plain));
    if (!cited && section.section === citation.section) { cited = part; part.classList.add("cited"); }
    return part;
  }));
  readerFromAssessment = !assessView.hidden;
  body.hidden = composer.hidden = assessView.hidden = true;
  reader.hidden = false;
  readerText.scrollTop = cited ? cited.offsetTop - 8 : 0; // offsetTop within .reader-text (positioned)
  readerTitle.focus({ preventScroll: true });
  announce(`Showing the document ${doc.title}.`);
}
let readerFromAssessment = false;
function closeReader() {
  reader.hidden = true;
  if (readerFromAssessment) assessView.hidden = false;
  else { body.hidden = false; showStep(); }
  if (readerOpener) readerOpener.focus();
  readerOpener = null;
}
