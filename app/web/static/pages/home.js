// Home: the tool catalog by section, with a search over names, descriptions and formats ("heic"
// finds every tool that takes HEIC).

import { append, clear, h } from '../dom.js';
import { t } from '../i18n.js';
import { isFavourite, prefs, toggleFavourite } from '../prefs.js';
import { SECTIONS, loadCatalog } from '../state.js';

function haystack(tool) {
  return [tool.id, tool.title, tool.description, tool.titleEn, tool.descriptionEn, ...(tool.formats || []), ...(tool.inputs?.kinds || [])].join(' ').toLowerCase();
}

/** Every word of the query must appear somewhere in the tool's text. */
export function matches(tool, query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const text = haystack(tool);
  return words.every((word) => text.includes(word));
}

/** The star on a card: adds the tool to (or removes it from) the user's favourites. */
function favouriteButton(tool, redraw) {
  const on = isFavourite(tool.id);
  return h(
    'button.fav',
    {
      type: 'button',
      'aria-pressed': String(on),
      'aria-label': on ? t('Remove {tool} from favourites', { tool: tool.title }) : t('Add {tool} to favourites', { tool: tool.title }),
      title: on ? t('Remove from favourites') : t('Add to favourites'),
      onClick: async () => {
        await toggleFavourite(tool.id).catch(() => null);
        redraw();
      },
    },
    on ? '★' : '☆',
  );
}

function card(tool, redraw) {
  return h(
    'li.tool-card',
    { dataset: { tool: tool.id } },
    favouriteButton(tool, redraw),
    h(
      'a',
      { href: `/tools/${encodeURIComponent(tool.section)}/${encodeURIComponent(tool.id)}` },
      h('span.tool-title', {}, tool.title),
      h('span.tool-desc', {}, tool.description),
      h(
        'span.tool-meta',
        {},
        (tool.formats || []).slice(0, 6).map((f) => h('span.badge', {}, f)),
        tool.category ? h('span.badge.category', {}, tool.category) : null,
        tool.long ? h('span.badge.long', { title: t('Runs in the background with live progress') }, t('long')) : null,
        tool.experimental ? h('span.badge.experimental', {}, t('experimental')) : null,
      ),
    ),
  );
}

export async function render(main, ctx) {
  ctx.setTitle(t('Tools'));
  const tools = await loadCatalog();
  const search = h('input.search', {
    type: 'search',
    placeholder: t('Search by name, description or format (heic, pdf…)'),
    'aria-label': t('Search tools'),
    value: ctx.query.get('q') || '',
  });
  const count = h('p.muted.count', { 'aria-live': 'polite' });
  const sections = h('div.sections');
  const byId = new Map(tools.map((tool) => [tool.id, tool]));

  /** Favourites and recently used tools, above the catalog while nothing is searched. */
  function personal(id, title, ids) {
    const picked = ids.map((toolId) => byId.get(toolId)).filter(Boolean);
    if (!picked.length) return null;
    return h(
      'section.tool-section.personal',
      { 'aria-labelledby': `section-${id}`, dataset: { section: id } },
      h('h2', { id: `section-${id}` }, title),
      h('ul.tool-grid', {}, picked.map((tool) => card(tool, draw))),
    );
  }

  function draw() {
    const query = search.value.trim();
    const shown = query ? tools.filter((tool) => matches(tool, query)) : tools;
    count.textContent = query
      ? t('{shown} of {total} tools match “{query}”', { shown: shown.length, total: tools.length, query })
      : t('{count} tools', { count: tools.length });
    clear(
      sections,
      query ? null : personal('favourites', t('Favourites'), prefs.favourites),
      query ? null : personal('recent', t('Recently used'), prefs.recent.filter((id) => !prefs.favourites.includes(id))),
      SECTIONS.map(([section, title]) => {
        const inSection = shown.filter((tool) => tool.section === section);
        if (!inSection.length) return null;
        return h(
          'section.tool-section',
          { 'aria-labelledby': `section-${section}`, dataset: { section } },
          h('h2', { id: `section-${section}` }, t(title), h('span.muted', {}, ` ${inSection.length}`)),
          h('ul.tool-grid', {}, inSection.map((tool) => card(tool, draw))),
        );
      }),
      shown.length ? null : h('p.empty', {}, t('No tool matches your search.')),
    );
  }

  search.addEventListener('input', () => {
    const query = search.value.trim();
    // Kept in the address, so Back returns to the same search.
    history.replaceState(null, '', query ? `/?q=${encodeURIComponent(query)}` : '/');
    draw();
  });
  append(main, h('div.page-head', {}, h('h1', {}, t('Tools')), count), search, sections);
  draw();
  search.focus();
}
