// Choosing what a tool runs on: a drop zone for files from this computer, and a picker for a file
// already in the library (the tool then runs on it by fileId and saves the result as its next version).

import { api } from './api.js';
import { clear, debounce, errorMessage, formatBytes, formatDate, h, showError } from './dom.js';
import { t } from './i18n.js';

/** A drop zone that collects files (dropped, or picked through the hidden input). */
export function dropZone({ multiple = true, label = t('Drop files here'), hint = '', name = 'file', onChange, reorder = false } = {}) {
  let files = [];
  // After a file was refused, the next pick replaces the selection instead of joining it (a wrong
  // file followed by the right one must not silently become a two-file batch).
  let replaceNext = false;
  let dragged = null;
  const input = h('input.visually-hidden', { type: 'file', multiple, name, 'aria-label': label });
  const list = h('ul.file-list');
  const errorSlot = h('div.error-slot');
  const zone = h(
    'div.dropzone',
    { dataset: { input: name } },
    h('p.dropzone-label', {}, label),
    h('p.muted', {}, t('or'), ' ', h('button.linkish', { type: 'button', onClick: () => input.click() }, multiple ? t('choose files') : t('choose a file'))),
    hint ? h('small.hint', {}, hint) : null,
    input,
  );

  function render() {
    clear(
      list,
      files.map((file, index) => {
        const last = index === files.length - 1;
        const item = h(
          'li',
          { draggable: reorder ? 'true' : null, dataset: { index: String(index) } },
          reorder ? h('span.order', { 'aria-hidden': 'true' }, `${index + 1}.`) : null,
          h('span.file-name', {}, file.name),
          h('span.muted', {}, ` ${formatBytes(file.size)}`),
          reorder
            ? [
                h('button.icon', { type: 'button', 'aria-label': t('Move {name} up', { name: file.name }), disabled: index === 0, onClick: () => move(index, index - 1) }, '↑'),
                h('button.icon', { type: 'button', 'aria-label': t('Move {name} down', { name: file.name }), disabled: last, onClick: () => move(index, index + 1) }, '↓'),
              ]
            : null,
          h('button.icon', { type: 'button', 'aria-label': t('Remove {name}', { name: file.name }), onClick: () => remove(index) }, '×'),
        );
        if (reorder) {
          item.addEventListener('dragstart', () => (dragged = index));
          item.addEventListener('dragover', (event) => event.preventDefault());
          item.addEventListener('drop', (event) => {
            event.preventDefault();
            event.stopPropagation();
            if (dragged !== null) move(dragged, index);
            dragged = null;
          });
        }
        return item;
      }),
    );
    zone.classList.toggle('has-files', files.length > 0);
    onChange?.(files);
  }

  function add(picked) {
    const incoming = [...picked];
    if (!multiple) files = incoming.slice(0, 1);
    else if (replaceNext) files = incoming;
    else {
      const key = (f) => `${f.name}/${f.size}/${f.lastModified}`;
      const seen = new Set(files.map(key));
      files = files.concat(incoming.filter((f) => !seen.has(key(f))));
    }
    replaceNext = false;
    showError(errorSlot, null);
    render();
  }

  function remove(index) {
    files = files.filter((_, i) => i !== index);
    render();
  }

  /** Moves a file to another place in the list (merge and collage take them in this order). */
  function move(from, to) {
    if (to < 0 || to >= files.length || from === to) return;
    const [file] = files.splice(from, 1);
    files.splice(to, 0, file);
    render();
    list.querySelector(`li[data-index="${to}"] .file-name`)?.scrollIntoView({ block: 'nearest' });
  }

  input.addEventListener('change', () => {
    add(input.files);
    input.value = '';
  });
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    if (event.dataTransfer?.files?.length) add(event.dataTransfer.files);
  });

  return {
    element: h('div.dropzone-wrap', {}, zone, list, errorSlot),
    files: () => files.slice(),
    clear: () => {
      files = [];
      render();
    },
    setError: (err) => {
      replaceNext = Boolean(err);
      showError(errorSlot, err);
    },
  };
}

/** One named extra upload of a tool (a mask, a watermark, subtitles): its own labelled file input. */
export function extraPartInput(part) {
  const input = h('input', { type: 'file', name: part.name, id: `extra-${part.name}` });
  const element = h(
    'div.field',
    { dataset: { field: part.name } },
    h('label', { for: input.id }, part.description || part.name, part.required ? h('span.required', {}, ' *') : null),
    input,
    h('small.hint', {}, `${part.required ? t('Required') : t('Optional')}: ${(part.kinds || []).join(', ')}`),
    h('p.field-error', { role: 'alert', hidden: true }),
  );
  return { element, name: part.name, required: part.required, file: () => input.files[0] || null };
}

export function thumbnailUrl(fileId) {
  return `/api/v1/files/${encodeURIComponent(fileId)}/thumbnail`;
}

/** A thumbnail <img> that falls back to the file's type when no thumbnail can be made. */
export function thumbnail(file, { size = 'small' } = {}) {
  const fallback = h('span.thumb-fallback', {}, (file.originalName.split('.').pop() || 'file').slice(0, 5).toUpperCase());
  const img = h('img', { src: thumbnailUrl(file.id), alt: '', loading: 'lazy', decoding: 'async' });
  const box = h(`div.thumb.${size}`, {}, img);
  img.addEventListener('error', () => img.replaceWith(fallback));
  return box;
}

/** A button that opens a dialog listing library files; onPick(file) gets the chosen one. */
export function libraryPicker({ onPick, label = t('Choose from library'), accepts = [] }) {
  const search = h('input', { type: 'search', placeholder: t('Search by name'), 'aria-label': t('Search library') });
  const results = h('div.picker-results');
  const dialog = h(
    'dialog.picker',
    { 'aria-label': t('Library files') },
    h('div.picker-head', {}, h('h2', {}, t('Library')), h('button.icon', { type: 'button', 'aria-label': t('Close'), onClick: () => dialog.close() }, '×')),
    search,
    results,
  );

  async function load() {
    clear(results, h('p.muted', {}, t('Loading…')));
    try {
      // Only files the tool takes (by the kind Lutra detected), so a pick never ends in a 415.
      const data = await api.get('/api/v1/files', { search: search.value.trim(), limit: 50, kinds: accepts.join(',') });
      clear(
        results,
        data.files.length
          ? h(
              'ul.picker-list',
              {},
              data.files.map((file) =>
                h(
                  'li',
                  {},
                  h(
                    'button.picker-item',
                    {
                      type: 'button',
                      onClick: () => {
                        dialog.close();
                        onPick(file);
                      },
                    },
                    thumbnail(file),
                    h('span.file-name', {}, file.originalName),
                    h('span.muted', {}, `v${file.version} · ${formatBytes(file.size)} · ${formatDate(file.createdAt)}`),
                  ),
                ),
              ),
            )
          : h('p.muted', {}, accepts.length ? t('No library file of a type this tool takes matches.') : t('No files in the library match.')),
      );
    } catch (err) {
      clear(results, errorMessage(err));
    }
  }

  search.addEventListener('input', debounce(load, 250));
  const button = h(
    'button.secondary',
    {
      type: 'button',
      onClick: () => {
        if (!dialog.isConnected) document.body.append(dialog);
        dialog.showModal();
        load();
      },
    },
    label,
  );
  return button;
}
