// Home: the tool catalog by category (the seed's twelve), with favourites and recently used tools at
// the top, a sidebar of jump links on wide screens and a category menu on phones, and a search over
// names, descriptions, categories and formats ("heic" finds every tool that takes or makes HEIC).

import { append, clear, h } from '../dom.js';
import { t } from '../i18n.js';
import { icon } from '../icons.js';
import { modelNote } from '../model-note.js';
import { isFavourite, prefs, toggleFavourite } from '../prefs.js';
import { CATEGORIES, categorySlug, loadCatalog, sectionTitle } from '../state.js';

/** The settings that pick an output format, as their allowed values (convert's `format`, …). */
function outputFormats(tool) {
  const props = tool.settingsSchema?.properties || {};
  return ['format', 'outputFormat', 'targetFormat']
    .map((name) => props[name])
    .filter(Boolean)
    .flatMap((spec) => spec.enum || (spec.anyOf || []).flatMap((b) => b.enum || []) || []);
}

function haystack(tool) {
  return [
    tool.id,
    tool.title,
    tool.description,
    tool.titleEn,
    tool.descriptionEn,
    tool.category,
    tool.category ? t(tool.category) : null,
    sectionTitle(tool.section),
    ...(tool.formats || []),
    ...(tool.inputs?.kinds || []),
    ...(tool.inputs?.accepts || []),
    ...(tool.produces || []).map((p) => p.format),
    ...outputFormats(tool),
  ]
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
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

function card(tool, redraw, reload) {
  return h(
    'li.tool-card',
    { dataset: { tool: tool.id, category: tool.category || '' } },
    favouriteButton(tool, redraw),
    h(
      'a',
      { href: `/tools/${encodeURIComponent(tool.section)}/${encodeURIComponent(tool.id)}` },
      h('span.tool-title', {}, icon(tool.icon, 'tool-icon'), h('span', {}, tool.title)),
      h('span.tool-desc', {}, tool.description),
      h(
        'span.tool-meta',
        {},
        (tool.formats || []).slice(0, 6).map((f) => h('span.badge', {}, f)),
        tool.long ? h('span.badge.long', { title: t('Runs in the background with live progress') }, t('long')) : null,
        tool.experimental ? h('span.badge.experimental', {}, t('experimental')) : null,
      ),
    ),
    modelNote(tool, { compact: true, onInstalled: reload }),
  );
}

/** Categories in the seed's order, then any other a tool module named. */
function orderedCategories(tools) {
  const named = new Set(tools.map((tool) => tool.category).filter(Boolean));
  return [...CATEGORIES.filter((c) => named.has(c)), ...[...named].filter((c) => !CATEGORIES.includes(c)).sort()];
}

export async function render(main, ctx) {
  ctx.setTitle(t('Tools'));
  let tools = await loadCatalog();
  const search = h('input.search', {
    type: 'search',
    placeholder: t('Search by name, category or format (heic, pdf, audio…)'),
    'aria-label': t('Search tools'),
    value: ctx.query.get('q') || '',
  });
  const count = h('p.muted.count', { 'aria-live': 'polite' });
  const sections = h('div.sections');
  const sidebar = h('nav.category-nav', { 'aria-label': t('Categories') });
  const menu = h('select.category-menu', { id: 'category-menu' });
  let byId = new Map(tools.map((tool) => [tool.id, tool]));

  async function reload() {
    tools = await loadCatalog({ force: true });
    byId = new Map(tools.map((tool) => [tool.id, tool]));
    draw();
  }

  /** Scrolls to a category's heading and moves the focus there, so the keyboard follows. */
  function jump(category) {
    const heading = sections.querySelector(`#cat-${categorySlug(category)}`);
    if (!heading) return;
    heading.scrollIntoView({ block: 'start' });
    heading.focus({ preventScroll: true });
  }

  /** Favourites and recently used tools, above the catalog while nothing is searched. */
  function personal(id, title, ids) {
    const picked = ids.map((toolId) => byId.get(toolId)).filter(Boolean);
    if (!picked.length) return null;
    return h(
      'section.tool-section.personal',
      { 'aria-labelledby': `section-${id}`, dataset: { section: id } },
      h('h2', { id: `section-${id}` }, title),
      h('ul.tool-grid', {}, picked.map((tool) => card(tool, draw, reload))),
    );
  }

  function draw() {
    const query = search.value.trim();
    const shown = query ? tools.filter((tool) => matches(tool, query)) : tools;
    count.textContent = query
      ? t('{shown} of {total} tools match “{query}”', { shown: shown.length, total: tools.length, query })
      : t('{count} tools', { count: tools.length });
    const groups = orderedCategories(shown).map((category) => [category, shown.filter((tool) => tool.category === category)]);
    clear(
      sidebar,
      h(
        'ul',
        {},
        groups.map(([category, inCategory]) =>
          h(
            'li',
            {},
            h(
              'a',
              {
                href: `#cat-${categorySlug(category)}`,
                dataset: { category },
                onClick: (event) => {
                  event.preventDefault();
                  jump(category);
                },
              },
              icon(`cat-${categorySlug(category)}`, 'category-icon'),
              h('span', {}, t(category)),
              h('span.muted.n', {}, String(inCategory.length)),
            ),
          ),
        ),
      ),
    );
    clear(
      menu,
      h('option', { value: '' }, t('Jump to a category…')),
      groups.map(([category, inCategory]) => h('option', { value: category }, `${t(category)} (${inCategory.length})`)),
    );
    clear(
      sections,
      query ? null : personal('favourites', t('Favourites'), prefs.favourites),
      query ? null : personal('recent', t('Recently used'), prefs.recent.filter((id) => !prefs.favourites.includes(id))),
      groups.map(([category, inCategory]) =>
        h(
          'section.tool-section',
          { 'aria-labelledby': `cat-${categorySlug(category)}`, dataset: { category } },
          h('h2', { id: `cat-${categorySlug(category)}`, tabindex: '-1' }, t(category), h('span.muted', {}, ` ${inCategory.length}`)),
          h('ul.tool-grid', {}, inCategory.map((tool) => card(tool, draw, reload))),
        ),
      ),
      shown.length ? null : h('p.empty', {}, t('No tool matches your search.')),
    );
  }

  search.addEventListener('input', () => {
    const query = search.value.trim();
    // Kept in the address, so Back returns to the same search.
    history.replaceState(null, '', query ? `/?q=${encodeURIComponent(query)}` : '/');
    draw();
  });
  menu.addEventListener('change', () => {
    if (menu.value) jump(menu.value);
    menu.value = '';
  });
  append(
    main,
    h('div.page-head', {}, h('h1', {}, t('Tools')), count),
    search,
    h('div.category-menu-wrap', {}, h('label', { for: 'category-menu' }, t('Category')), menu),
    h('div.home-layout', {}, sidebar, sections),
  );
  draw();
  search.focus();
}
