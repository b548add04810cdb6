// The PDF page organiser: a PDF's pages as thumbnails to drag into a new order, turn, copy and delete;
// "Apply" sends the whole edit to multi-tool-pdf as one list of operations (extract in the new order,
// then the turns), and shows the result like any tool's.

import { upload } from '../api.js';
import { clear, errorMessage, h, showError } from '../dom.js';
import { dropZone } from '../inputs.js';
import { objectUrl, progressBar, resultView, runJob } from '../results.js';
import { t } from '../i18n.js';

const THUMB_DPI = 24;

function form(file, settings) {
  const body = new FormData();
  body.append('file', file);
  body.append('settings', JSON.stringify(settings));
  return body;
}

/** Operations for multi-tool-pdf: the pages kept, in their new order, then each turn as one rotate. */
export function operationsFor(cards) {
  const operations = [{ op: 'extract', pages: cards.map((c) => c.source).join(',') }];
  for (const angle of [90, 180, 270]) {
    const pages = cards.map((c, i) => (c.rotation === angle ? i + 1 : null)).filter(Boolean);
    if (pages.length) operations.push({ op: 'rotate', pages: pages.join(','), angle });
  }
  return operations;
}

export async function render(main, ctx) {
  ctx.setTitle(t('PDF page organiser'));
  let file = null;
  let cards = []; // {source: page number in the upload, rotation: 0/90/180/270, url: thumbnail}
  let dragged = null;
  const grid = h('ol.page-grid', { 'aria-label': t('Pages') });
  const status = h('p.muted', { role: 'status' });
  const errorSlot = h('div.error-slot');
  const output = h('div.result-slot');
  const progress = progressBar();
  const apply = h('button', { type: 'button', disabled: true, onClick: () => send() }, t('Apply'));
  const zone = dropZone({ multiple: false, label: t('Drop a PDF here'), onChange: (files) => files[0] && load(files[0]) });

  function move(from, to) {
    const [card] = cards.splice(from, 1);
    cards.splice(to, 0, card);
    draw();
  }

  function tile(card, index) {
    const label = t('Page {n}', { n: card.source });
    const item = h(
      'li.page-tile',
      { draggable: 'true', dataset: { source: String(card.source), rotation: String(card.rotation) } },
      h('img', { src: card.url, alt: label }), // turned by CSS from data-rotation (the CSP allows no inline style)
      h('span.page-label', {}, label),
      h(
        'div.page-actions',
        {},
        h('button.icon', { type: 'button', 'aria-label': t('Turn {page} left', { page: label }), onClick: () => turn(index, 270) }, '⟲'),
        h('button.icon', { type: 'button', 'aria-label': t('Turn {page} right', { page: label }), onClick: () => turn(index, 90) }, '⟳'),
        h('button.icon', { type: 'button', 'aria-label': t('Copy {page}', { page: label }), onClick: () => copy(index) }, '⧉'),
        h('button.icon', { type: 'button', 'aria-label': t('Delete {page}', { page: label }), onClick: () => remove(index) }, '×'),
      ),
    );
    item.addEventListener('dragstart', (event) => {
      dragged = index;
      event.dataTransfer.effectAllowed = 'move';
      event.dataTransfer.setData('text/plain', String(index));
    });
    item.addEventListener('dragover', (event) => {
      event.preventDefault();
      item.classList.add('drop-target');
    });
    item.addEventListener('dragleave', () => item.classList.remove('drop-target'));
    item.addEventListener('drop', (event) => {
      event.preventDefault();
      const from = dragged ?? Number(event.dataTransfer.getData('text/plain'));
      dragged = null;
      if (Number.isInteger(from) && from !== index) move(from, index);
    });
    return item;
  }

  function draw() {
    clear(grid, cards.map(tile));
    apply.disabled = !cards.length;
    status.textContent = file ? t('{count} pages', { count: cards.length }) : '';
  }

  function turn(index, by) {
    cards[index].rotation = (cards[index].rotation + by) % 360;
    draw();
  }

  function copy(index) {
    cards.splice(index + 1, 0, { ...cards[index] });
    draw();
  }

  function remove(index) {
    if (cards.length === 1) {
      showError(errorSlot, t('A PDF needs at least one page.'));
      return;
    }
    cards.splice(index, 1);
    draw();
  }

  async function load(picked) {
    file = picked;
    cards = [];
    clear(output);
    showError(errorSlot, null);
    status.textContent = t('Reading the pages…');
    draw();
    try {
      const info = (await upload('/api/v1/tools/pdf/pdf-to-image/info', form(file, {}))).json;
      for (let page = 1; page <= info.pageCount; page += 1) {
        if (file !== picked) return; // another file was dropped meanwhile
        const reply = await upload('/api/v1/tools/pdf/pdf-to-image/preview', form(file, { page, dpi: THUMB_DPI }));
        cards.push({ source: page, rotation: 0, url: objectUrl(reply.blob) });
        draw();
      }
    } catch (err) {
      status.textContent = '';
      showError(errorSlot, err);
    }
  }

  async function send() {
    apply.disabled = true;
    showError(errorSlot, null);
    clear(output, progress.element);
    try {
      const result = await runJob('/api/v1/tools/pdf/multi-tool-pdf', form(file, { operations: operationsFor(cards) }), progress);
      clear(output, resultView(result));
    } catch (err) {
      clear(output, errorMessage(err));
    } finally {
      apply.disabled = !cards.length;
    }
  }

  clear(
    main,
    h(
      'div.page-head',
      {},
      h('p.crumbs', {}, h('a', { href: '/' }, t('Tools')), ' / ', h('a', { href: '/tools/pdf/multi-tool-pdf' }, t('Multi-Tool PDF'))),
      h('h1', {}, t('PDF page organiser')),
      h('p.lead', {}, t('Drag pages into a new order, turn, copy or delete them, then apply the changes.')),
    ),
    h('section.card', {}, zone.element, status, grid, errorSlot, h('div.actions', {}, apply)),
    output,
  );
}
