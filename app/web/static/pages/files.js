// The file library: upload, search, thumbnails, and per file its version history, downloads, a tool
// to run on it (the result becomes its next version) and deletion of the whole chain.

import { api, upload } from '../api.js';
import { append, clear, confirmDialog, debounce, facts, formatBytes, formatDate, h, showError, table } from '../dom.js';
import { dropZone, thumbnail } from '../inputs.js';
import { progressBar } from '../results.js';
import { SECTIONS, fits, loadCatalog, state } from '../state.js';
import { t } from '../i18n.js';

const PAGE = 48;

function fileHref(file) {
  return `/files/${encodeURIComponent(file.id)}`;
}

function downloadHref(file) {
  return `/api/v1/files/${encodeURIComponent(file.id)}/download`;
}

export async function render(main, ctx) {
  ctx.setTitle(t('Files'));
  let offset = 0;
  const selected = new Set();
  const search = h('input.search', { type: 'search', placeholder: t('Search by name'), 'aria-label': t('Search files'), value: ctx.query.get('q') || '' });
  const grid = h('div.file-grid-wrap');
  const pager = h('div.pager');
  const listMessage = h('div.error-slot');
  const bulkDelete = h('button.danger', { type: 'button', disabled: true }, t('Delete selected'));
  // Admins (files:all) see everyone's files: each card names its owner, and a filter narrows to one user.
  const seesAll = (state.user?.permissions || []).includes('files:all');
  const ownerFilter = seesAll ? ownerSelect(ctx.query.get('owner') || '') : null;

  const drop = dropZone({ label: t('Drop files here to add them to the library') });
  const progress = progressBar();
  const uploadMessage = h('div.error-slot');
  const uploadButton = h('button.primary', { type: 'submit' }, t('Upload'));
  const uploadForm = h('form.upload-form', { novalidate: true, 'aria-label': t('Upload') }, drop.element, h('div.run-bar', {}, uploadButton, uploadMessage), progress.element);
  uploadForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const files = drop.files();
    if (!files.length) {
      drop.setError(t('Choose files first.'));
      return;
    }
    const body = new FormData();
    files.forEach((file) => body.append('files', file, file.name));
    uploadButton.disabled = true;
    showError(uploadMessage, null);
    try {
      progress.set(0, t('Uploading'));
      const reply = await upload('/api/v1/files/upload', body, { onProgress: (pct) => progress.set(pct, t('Uploading')) });
      progress.set(100, t('Added {count} files', { count: reply.json.files.length }));
      drop.clear();
      offset = 0;
      await load();
    } catch (err) {
      progress.hide();
      if (err.status === 413 || err.status === 400) drop.setError(err);
      else showError(uploadMessage, err);
    } finally {
      uploadButton.disabled = false;
    }
  });

  function updateBulk() {
    bulkDelete.disabled = selected.size === 0;
    bulkDelete.textContent = selected.size ? t('Delete {count} selected', { count: selected.size }) : t('Delete selected');
  }

  bulkDelete.addEventListener('click', async () => {
    if (!(await confirmDialog(t('Delete {count} files with all their versions?', { count: selected.size })))) return;
    try {
      await api.del('/api/v1/files', { ids: [...selected] });
      selected.clear();
      await load();
    } catch (err) {
      showError(listMessage, err);
    }
  });

  function card(file) {
    const box = h('input', {
      type: 'checkbox',
      'aria-label': t('Select {name}', { name: file.originalName }),
      checked: selected.has(file.id),
      onChange: (event) => {
        if (event.target.checked) selected.add(file.id);
        else selected.delete(file.id);
        updateBulk();
      },
    });
    return h(
      'li.file-card',
      { dataset: { file: file.id } },
      h('a.file-open', { href: fileHref(file) }, thumbnail(file, { size: 'large' }), h('span.file-name', {}, file.originalName)),
      h(
        'div.file-meta',
        {},
        box,
        h('span.muted', {}, `${formatBytes(file.size)} · v${file.version}${file.width ? ` · ${file.width}×${file.height}` : ''}`),
        h('a.button.small', { href: downloadHref(file), download: file.originalName, 'aria-label': t('Download {name}', { name: file.originalName }) }, '↓'),
      ),
      file.owner ? h('span.file-owner.muted', { title: t('Owner: {name}', { name: file.owner.username }) }, t('Owner: {name}', { name: file.owner.username })) : null,
    );
  }

  async function load() {
    showError(listMessage, null);
    try {
      const query = { search: search.value.trim(), limit: PAGE, offset };
      if (ownerFilter?.value) query.owner = ownerFilter.value;
      const data = await api.get('/api/v1/files', query);
      clear(
        grid,
        data.files.length
          ? h('ul.file-grid', {}, data.files.map(card))
          : h('p.empty', {}, search.value.trim() ? t('No file matches your search.') : t('The library is empty: upload files above, or save a tool’s result.')),
      );
      const last = Math.min(offset + PAGE, data.total);
      clear(
        pager,
        data.total > PAGE
          ? [
              h('button.secondary', { type: 'button', disabled: offset === 0, onClick: () => page(-PAGE) }, t('← Newer')),
              h('span.muted', {}, ` ${t('{first}–{last} of {total}', { first: offset + 1, last, total: data.total })} `),
              h('button.secondary', { type: 'button', disabled: last >= data.total, onClick: () => page(PAGE) }, t('Older →')),
            ]
          : h('span.muted', {}, t('{count} files', { count: data.total })),
      );
      updateBulk();
    } catch (err) {
      showError(listMessage, err);
    }
  }

  function page(by) {
    offset = Math.max(0, offset + by);
    load();
  }

  search.addEventListener(
    'input',
    debounce(() => {
      offset = 0;
      remember();
      load();
    }, 250),
  );
  ownerFilter?.addEventListener('change', () => {
    offset = 0;
    remember();
    load();
  });

  function remember() {
    const params = new URLSearchParams();
    if (search.value.trim()) params.set('q', search.value.trim());
    if (ownerFilter?.value) params.set('owner', ownerFilter.value);
    history.replaceState(null, '', params.size ? `/files?${params}` : '/files');
  }

  append(main,
    h('div.page-head', {}, h('h1', {}, t('Files')), h('p.lead', {}, t('Your library: every file keeps its versions, one per tool run on it.'))),
    h('section.card', { 'aria-label': t('Upload') }, h('h2', {}, t('Upload')), uploadForm),
    h('div.list-tools', {}, search, ownerFilter, bulkDelete),
    listMessage,
    grid,
    pager,
  );
  await load();
}

/** The admin's owner filter: every user by name (the users list needs users:manage; without it, only "Everyone"). */
function ownerSelect(initial) {
  const select = h('select.owner-filter', { name: 'owner', 'aria-label': t('Owner') }, h('option', { value: '' }, t('Everyone')));
  if (initial) append(select, h('option', { value: initial, selected: true }, initial));
  api
    .get('/api/auth/users')
    .then(({ users }) => {
      const keep = select.value;
      clear(select, h('option', { value: '' }, t('Everyone')), users.map((u) => h('option', { value: u.username }, u.username)));
      select.value = keep;
    })
    .catch(() => {});
  return select;
}

/** Tools that can run on this file: single-file tools whose input kinds fit, by section. */
function toolChooser(file, ctx) {
  const group = file.mimeType.split('/')[0];
  const section = { image: 'image', video: 'video', audio: 'audio' }[group] || (file.mimeType === 'application/pdf' ? 'pdf' : 'files');
  // Only tools that take this file's kind (as detected by Lutra): no choice ends in a 415.
  const candidates = state.tools.filter(
    (t) => !t.inputs.jsonBody && t.inputs.minFiles <= 1 && !t.inputs.extra.some((p) => p.required) && fits(t, file.kind),
  );
  const select = h(
    'select',
    { 'aria-label': t('Tool to run on this file') },
    h('option', { value: '' }, t('Run a tool on this file…')),
    SECTIONS.map(([id, title]) =>
      h(
        'optgroup',
        { label: t(title) },
        candidates.filter((t) => t.section === id).map((t) => h('option', { value: `${t.section}/${t.id}` }, t.title)),
      ),
    ),
  );
  // The file's own section first: that is where its tools are.
  const own = [...select.querySelectorAll('optgroup')].find((g) => g.label === t((SECTIONS.find(([id]) => id === section) || [])[1] || ''));
  if (own) select.insertBefore(own, select.children[1]);
  select.addEventListener('change', () => {
    if (select.value) ctx.navigate(`/tools/${select.value}?fileId=${encodeURIComponent(file.id)}`);
  });
  return select;
}

export const detail = {
  async render(main, ctx) {
    const [{ file, versions }] = await Promise.all([api.get(`/api/v1/files/${encodeURIComponent(ctx.params.fileId)}`), loadCatalog()]);
    ctx.setTitle(file.originalName);
    const message = h('div.error-slot');
    const remove = h(
      'button.danger',
      {
        type: 'button',
        onClick: async () => {
          if (!(await confirmDialog(t('Delete “{name}” and all {count} versions?', { name: file.originalName, count: versions.length })))) return;
          try {
            await api.del('/api/v1/files', { ids: [file.id] });
            ctx.navigate('/files');
          } catch (err) {
            showError(message, err);
          }
        },
      },
      t('Delete file and versions'),
    );
    const rows = versions
      .slice()
      .reverse()
      .map((v) => [
        h('a', { href: fileHref(v) }, thumbnail(v)),
        h('span', {}, `v${v.version}`, v.id === file.id ? h('span.badge', {}, t('this')) : null),
        h('span.file-name', {}, v.originalName),
        v.toolId ? (state.toolById.get(v.toolId)?.title || v.toolId) : 'upload',
        formatBytes(v.size),
        v.width ? `${v.width} × ${v.height}` : '–',
        formatDate(v.createdAt),
        h('a', { href: downloadHref(v), download: v.originalName }, t('Download')),
      ]);
    append(main,
      h('p.crumbs', {}, h('a', { href: '/files' }, t('Files')), ' / ', file.originalName),
      h(
        'div.file-detail',
        {},
        h('div.file-preview', {}, thumbnail(file, { size: 'huge' })),
        h(
          'div.file-facts',
          {},
          h('h1.file-name', {}, file.originalName),
          facts([
            [t('Type'), file.mimeType],
            [t('Size'), formatBytes(file.size)],
            file.width ? [t('Dimensions'), `${file.width} × ${file.height}`] : null,
            [t('Version'), t('{version} of {count}', { version: file.version, count: versions.length })],
            [t('Tools applied'), file.toolChain.length ? file.toolChain.join(' → ') : t('none (as uploaded)')],
            ...(file.owner ? [[t('Owner'), h('span.file-owner', {}, file.owner.username)]] : []),
            [t('Added'), formatDate(file.createdAt)],
          ]),
          h('div.actions', {}, h('a.button.primary', { href: downloadHref(file), download: file.originalName }, t('Download')), state.can('tools:use') ? toolChooser(file, ctx) : null, remove),
          message,
        ),
      ),
      h('section.versions', { 'aria-label': t('Versions') }, h('h2', {}, t('Versions ({count})', { count: versions.length })), table(['', t('Version'), t('Name'), t('Made by'), t('Size'), t('Pixels'), t('Created'), ''], rows)),
    );
  },
};
