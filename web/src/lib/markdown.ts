// Markdown to safe HTML for chat messages: marked (Debian's node-marked) parses, DOMPurify
// (node-dompurify) keeps only harmless markup: no scripts, no event handlers, no inline styles
// (the edge's Content-Security-Policy would refuse them anyway), links open in a new tab
// without the opener.
import DOMPurify from "dompurify";
import { marked } from "marked";

let hooked = false;

/** The HTML of a Markdown text, sanitised. */
export function renderMarkdown(text: string): string {
  if (!hooked) {
    DOMPurify.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A") {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      }
    });
    hooked = true;
  }
  const html = marked.parse(text, { gfm: true, breaks: true, headerIds: false, mangle: false });
  return DOMPurify.sanitize(html, {
    FORBID_TAGS: ["style", "img", "form", "input", "button", "iframe", "svg", "math"],
    FORBID_ATTR: ["style", "class", "id"],
    ALLOW_DATA_ATTR: false,
  });
}
