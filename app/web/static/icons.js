// Tool and category pictures: symbols of the one SVG sprite the app ships (static/icons/sprite.svg),
// drawn with <svg><use href="…#id">, so no icon font or outside server is ever needed.

const SVG_NS = 'http://www.w3.org/2000/svg';
export const SPRITE = '/static/icons/sprite.svg';

/** The sprite's symbol `id` as a decorative inline <svg class="icon"> (hidden from screen readers). */
export function icon(id, extraClass = '') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', `icon ${extraClass}`.trim());
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const use = document.createElementNS(SVG_NS, 'use');
  use.setAttribute('href', `${SPRITE}#${id || 'cat-utilities'}`);
  svg.append(use);
  return svg;
}
