// Search matches in a text, for the search playground: the text cut into parts, each marked
// when it is one of the query's words (case-insensitive, whole words and word prefixes).

export interface TextPart {
  text: string;
  match: boolean;
}

/** The query's words of two characters or more, lower-cased, without duplicates. */
export function queryTerms(query: string): string[] {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]{2,}/gu) ?? [];
  return [...new Set(words)];
}

/** The text in parts; the parts that start with a query term (at a word start) are matches. */
export function highlight(text: string, query: string): TextPart[] {
  const terms = queryTerms(query);
  if (terms.length === 0 || !text) return text ? [{ text, match: false }] : [];
  const escaped = terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).sort((a, b) => b.length - a.length);
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(?:${escaped.join("|")})[\\p{L}\\p{N}]*`, "giu");
  const parts: TextPart[] = [];
  let last = 0;
  for (const found of text.matchAll(pattern)) {
    const start = found.index ?? 0;
    if (start > last) parts.push({ text: text.slice(last, start), match: false });
    parts.push({ text: found[0], match: true });
    last = start + found[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last), match: false });
  return parts;
}
