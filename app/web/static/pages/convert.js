// Convert: drop any file, pick a target among the formats it can reach, and Lutra runs the shortest
// chain of tools (GET /api/v1/convert/formats, /routes; POST /api/v1/convert). The server judges the
// file by its content; the page guesses the type from the name only to offer targets before upload.

import { api } from '../api.js';
import { append, clear, h, showError } from '../dom.js';
import { dropZone } from '../inputs.js';
import { progressBar, resultView, runJob } from '../results.js';
import { loadCatalog, state } from '../state.js';
import { t } from '../i18n.js';

/** A file name's extension as a format the server knows ("photo.HEIC" -> "heif"), or null. */
export function guessFormat(name, formats, aliases) {
  const ext = (name.split('.').pop() || '').toLowerCase();
  const kind = aliases[ext] || ext;
  return formats.includes(kind) ? kind : null;
}

export async function render(main, ctx) {
  ctx.setTitle(t('Convert'));
  await loadCatalog();
  const { formats, matrix, aliases, pairs } = await api.get('/api/v1/convert/formats');
  let stream = null;
  ctx.onLeave(() => stream?.close());

  const title = (id) => state.toolById.get(id)?.title || id;
  const detected = h('p.muted.detected', { 'aria-live': 'polite' }, t('Drop a file to see what it converts to.'));
  const target = h('select', { name: 'to', 'aria-label': t('Target format'), disabled: true });
  const routeNote = h('p.muted.route', { 'aria-live': 'polite' });
  const progress = progressBar();
  const message = h('div.error-slot');
  const resultSlot = h('div.result-slot');
  const button = h('button.primary', { type: 'submit', disabled: true }, t('Convert'));

  async function showRoute() {
    const source = target.dataset.from;
    clear(routeNote);
    if (!source || !target.value) return;
    try {
      const { routes } = await api.get('/api/v1/convert/routes', { from: source, to: target.value });
      routeNote.textContent = t('Route: {tools}', { tools: routes[0].toolIds.map(title).join(' → ') });
    } catch (err) {
      showError(message, err);
    }
  }

  function offerTargets(files) {
    clear(resultSlot);
    showError(message, null);
    const file = files[0];
    const source = file ? guessFormat(file.name, formats, aliases) : null;
    const reachable = source ? matrix[source] || [] : [];
    target.dataset.from = source || '';
    if (!file) detected.textContent = t('Drop a file to see what it converts to.');
    else if (!source) detected.textContent = t('“{name}”: the type is checked when it is uploaded; pick any target.', { name: file.name });
    else detected.textContent = t('“{name}” looks like {format}: {count} formats reachable.', { name: file.name, format: source.toUpperCase(), count: reachable.length });
    const choices = source ? reachable : formats;
    clear(target, h('option', { value: '' }, t('Convert to…')), choices.map((kind) => h('option', { value: kind }, kind.toUpperCase())));
    target.disabled = !file || !choices.length;
    button.disabled = true;
    clear(routeNote);
  }

  const drop = dropZone({ multiple: false, label: t('Drop any file to convert'), onChange: offerTargets });
  target.addEventListener('change', () => {
    button.disabled = !target.value;
    showRoute();
  });

  const form = h(
    'form.convert-form',
    { novalidate: true, 'aria-label': t('Convert a file') },
    drop.element,
    detected,
    h('div.run-bar', {}, target, button, message),
    routeNote,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const files = drop.files();
    if (!files.length || !target.value) return;
    showError(message, null);
    clear(resultSlot);
    const body = new FormData();
    body.append('file', files[0], files[0].name);
    body.append('to', target.value);
    button.disabled = true;
    try {
      const result = await runJob('/api/v1/convert', body, progress, { track: (s) => (stream = s) });
      // The route is said in words above the result, not again as raw data inside it.
      const { route, ...rest } = result;
      const done = route ? t('Converted {from} → {to}', { from: route.from.toUpperCase(), to: route.to.toUpperCase() }) : t('Converted');
      clear(resultSlot, h('p.ok.route-taken', { role: 'status' }, done), resultView(rest, { source: { file: files[0] } }));
    } catch (err) {
      progress.hide();
      if (err.status === 415 || err.status === 413) drop.setError(err);
      else showError(message, err);
    } finally {
      button.disabled = !target.value;
    }
  });

  append(main,
    h('div.page-head', {}, h('h1', {}, t('Convert')), h('p.lead', {}, t('Any file to any format Lutra can reach: {count} conversions, by the shortest chain of tools.', { count: pairs }))),
    h('section.card', { 'aria-label': t('Convert') }, form, progress.element, resultSlot),
  );
}
