/** Pieces of HTML output: escaping, and the typed values the display helper shows. */

/** Escapes `& < > "` for HTML text and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** HTML to display as it is. */
export interface Html {
  readonly kind: 'html';
  readonly html: string;
}

/** Markdown to display. */
export interface Markdown {
  readonly kind: 'markdown';
  readonly text: string;
}

/** A PNG image to display. */
export interface Png {
  readonly kind: 'png';
  readonly bytes: Uint8Array;
}

/** Wraps an HTML string for {@link show}. */
export function html(s: string): Html {
  return { kind: 'html', html: s };
}

/** Wraps a markdown string for {@link show}. */
export function markdown(text: string): Markdown {
  return { kind: 'markdown', text };
}
