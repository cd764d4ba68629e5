/**
 * Text cleanup applied before BPE, modelled on what the reference CLIPTokenizer does when `ftfy` is installed:
 * `whitespace_clean(ftfy.fix_text(text)).lower()`.
 *
 * We implement the parts of ftfy's default `fix_text` that change real prompts: terminal escapes, HTML entities
 * (only when the text has no '<', like ftfy's "auto"), NFC normalisation, curly quotes to straight quotes, Latin
 * ligatures, full-width characters to their normal width, control characters, line breaks. ftfy's mojibake repair
 * (re-decoding text that was decoded with the wrong codec) is left out: prompts arrive as JSON (UTF-8) here.
 */

// eslint-disable-next-line no-control-regex
const TERMINAL_ESCAPES = /\u001b\[((?:\d|;)*)([a-zA-Z])/g;
// ftfy's CONTROL_CHARS minus \t \n \r (those become spaces below) and C1 controls (ftfy maps those via cp1252).
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000e-\u001f\u007f\u206a-\u206f\ufeff\ufff9-\ufffc]/gu;
const SINGLE_QUOTES = /[\u2018\u2019\u201a\u201b\u2032\u02bc]/g;
const DOUBLE_QUOTES = /[\u201c\u201d\u201e\u201f\u2033]/g;
// Latin ligatures (U+FB00–U+FB06) and half/full-width forms (U+FF01–U+FFEE), plus the ideographic space:
// ftfy replaces exactly these with their NFKC form.
const WIDTH_AND_LIGATURES = /[\ufb00-\ufb06\uff01-\uffee\u3000]/g;
const HTML_ENTITY = /&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);/g;
const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
};

function unescapeHtml(text: string): string {
  return text.replace(HTML_ENTITY, (whole, body: string) => {
    if (body.startsWith('#')) {
      const code =
        body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body] ?? NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

/** ftfy-like fixes, whitespace collapsing and trimming, then lower-casing — the reference order. */
export function cleanPromptText(text: string): string {
  let t = text.replace(TERMINAL_ESCAPES, '');
  if (!t.includes('<')) t = unescapeHtml(t);
  t = t.normalize('NFC');
  t = t.replace(SINGLE_QUOTES, "'").replace(DOUBLE_QUOTES, '"');
  t = t.replace(WIDTH_AND_LIGATURES, (ch) => ch.normalize('NFKC'));
  t = t.replace(CONTROL_CHARS, '');
  t = t.replace(/\s+/gu, ' ').trim();
  return t.toLowerCase();
}
