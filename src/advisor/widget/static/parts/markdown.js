/* Widget part: the Markdown subset answers use. */
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
    // Under the panel's h2, every heading of an answer or a document is an h3.
    if (heading) { frag.append(h("h3", { class: "heading" }, inline(heading[1], cite))); list = para = null; continue; }
    if (list && /^\s/.test(raw)) { list.lastChild.append(" ", ...inline(line, cite)); continue; }
    if (para) para.append(h("br"), ...inline(line, cite));
    else { para = h("p", {}, inline(line, cite)); frag.append(para); list = null; }
  }
  return frag;
}
