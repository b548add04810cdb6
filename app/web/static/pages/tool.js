// A tool's page: inputs (drop zone, library file, extra parts), the settings form generated from the
// tool's JSON Schema, run with live progress, and the result. Several files through a one-file tool
// run as a batch (one ZIP back). Errors are shown at the input or setting they are about.

import { api, upload } from '../api.js';
import { append, clear, errorMessage, formatBytes, h, humanize, notice, showError } from '../dom.js';
import { FormError, schemaForm } from '../form.js';
import { t } from '../i18n.js';
import { dropZone, extraPartInput, libraryPicker, thumbnail } from '../inputs.js';
import { batchResultView, progressBar, resultView, runBatch, runJob } from '../results.js';
import { loadCatalog, sectionTitle, state } from '../state.js';
import { rememberTool } from '../prefs.js';
import { icon } from '../icons.js';
import { modelNote } from '../model-note.js';

// Input checks answer 400 without details (empty, damaged, too many pixels), 413 or 415: those are
// about the uploaded files and are shown at the drop zone; setting errors carry details per field.
function isFileError(err) {
  return err.status === 413 || err.status === 415 || (err.status === 400 && !err.details);
}

function header(tool) {
  const files = tool.inputs.jsonBody
    ? t('No upload: settings only')
    : tool.inputs.maxFiles === 1
      ? // A single-file tool also runs on many files at once, each on its own (a batch).
        t('One file at a time, or several as a batch')
      : t('Takes {count} files, in the order listed', {
          count: tool.inputs.minFiles === tool.inputs.maxFiles ? tool.inputs.maxFiles : `${tool.inputs.minFiles}–${tool.inputs.maxFiles}`,
        });
  return h(
    'div.page-head.tool-head',
    {},
    h('p.crumbs', {}, h('a', { href: '/' }, t('Tools')), ' / ', h('a', { href: `/?q=${encodeURIComponent(tool.section)}` }, sectionTitle(tool.section))),
    h('h1', {}, icon(tool.icon, 'tool-icon'), ' ', tool.title),
    h('p.lead', {}, tool.description),
    h(
      'p.tool-meta',
      {},
      (tool.formats || []).map((f) => h('span.badge', {}, f)),
      h('span.muted', {}, ` ${files}.`),
      tool.long ? h('span.badge.long', {}, t('runs in the background')) : null,
    ),
    tool.id === 'multi-tool-pdf' ? h('p', {}, h('a', { href: '/pdf-organizer' }, t('Open the page organiser: drag, turn and delete page thumbnails'))) : null,
  );
}

/** JSON-returning actions of a tool (inspect, info): buttons that show their answer. */
function actionsPanel(tool, getInput) {
  const actions = (tool.actions || []).filter((a) => a.returns === 'json');
  if (!actions.length) return null;
  const out = h('div.action-output');
  return h(
    'section.card.tool-actions',
    { 'aria-label': t('More') },
    h('h2', {}, t('More')),
    h('ul.action-list', {}, actions.map((a) => h('li', {}, h('strong', {}, humanize(a.name)), `: ${a.summary}`))),
    h(
      'div.actions',
      {},
      actions.map((action) =>
        h(
          'button.secondary',
          {
            type: 'button',
            title: action.summary,
            onClick: async () => {
              const body = getInput();
              if (!body) {
                clear(out, errorMessage(t('Drop a file above first.')));
                return;
              }
              clear(out, h('p.muted', {}, t('Working…')));
              try {
                const reply = body instanceof FormData ? (await upload(action.endpoint, body)).json : await api.post(action.endpoint, body);
                clear(out, h('p', {}, action.summary), h('pre', {}, JSON.stringify(reply, null, 2)));
              } catch (err) {
                clear(out, errorMessage(err));
              }
            },
          },
          humanize(action.name),
        ),
      ),
    ),
    out,
  );
}

export async function render(main, ctx) {
  await loadCatalog();
  const tool = state.toolById.get(ctx.params.toolId);
  if (!tool || tool.section !== ctx.params.section) {
    ctx.setTitle(t('Tool not found'));
    append(main,
      h('h1', {}, t('Tool not found')),
      h('p', {}, t('This tool does not exist or an administrator turned it off.'), ' ', h('a', { href: '/' }, t('See all tools'))),
    );
    return;
  }
  ctx.setTitle(tool.title);
  rememberTool(tool.id);
  const takesFiles = !tool.inputs.jsonBody;
  const single = tool.inputs.maxFiles === 1;
  let libraryFile = null;
  let jobId = null;
  let stream = null;
  ctx.onLeave(() => stream?.close());

  const settings = schemaForm(tool.settingsSchema);
  const progress = progressBar();
  const resultSlot = h('div.result-slot');
  const message = h('div.error-slot');
  const run = h('button.primary.run', { type: 'submit' }, t('Run'));
  const cancel = h('button.secondary', { type: 'button', hidden: true }, t('Cancel'));
  const modeNote = h('p.mode-note.muted', { 'aria-live': 'polite' });

  const drop = takesFiles
    ? dropZone({
        multiple: true,
        label: single ? t('Drop a file here (several run as a batch)') : t('Drop up to {count} files here', { count: tool.inputs.maxFiles }),
        hint: tool.inputs.minFiles === 0 ? t('Optional: this tool also works without a file.') : '',
        // Multi-file tools (merge, collage, stitch ...) take the files in the order shown.
        reorder: !single,
        onChange: (files) => {
          if (files.length) setLibraryFile(null);
          updateMode(files);
        },
      })
    : null;
  const extras = (takesFiles ? tool.inputs.extra || [] : []).map(extraPartInput);
  const libraryChoice = h('div.library-choice');

  function setLibraryFile(file) {
    libraryFile = file;
    clear(
      libraryChoice,
      file
        ? h(
            'div.chosen',
            {},
            thumbnail(file),
            h('span', {}, t('Library file:'), ' ', h('strong.file-name', {}, file.originalName), h('span.muted', {}, ` v${file.version} · ${formatBytes(file.size)}`)),
            h('button.icon', { type: 'button', 'aria-label': t('Do not use the library file'), onClick: () => setLibraryFile(null) }, '×'),
          )
        : null,
    );
    if (file) drop?.clear();
    updateMode(drop ? drop.files() : []);
  }

  function isBatch(files) {
    return single && files.length > 1;
  }

  function updateMode(files) {
    if (libraryFile) modeNote.textContent = t('The result is saved as the next version of the library file.');
    else if (isBatch(files)) modeNote.textContent = t('Batch: each of the {count} files is processed on its own; you get one ZIP.', { count: files.length });
    else modeNote.textContent = '';
    run.textContent = isBatch(files) ? t('Run on {count} files', { count: files.length }) : t('Run');
  }

  const inputsSection = takesFiles
    ? h(
        'section.card.inputs',
        { 'aria-label': t('Input') },
        h('h2', {}, t('Input')),
        drop.element,
        state.can('files:own') && tool.inputs.minFiles <= 1
          ? h('div.library-row', {}, libraryPicker({ onPick: setLibraryFile, accepts: tool.inputs.accepts || [] }), libraryChoice)
          : null,
        extras.map((e) => e.element),
        modeNote,
      )
    : null;

  const form = h(
    'form.tool-form',
    { novalidate: true },
    inputsSection,
    h(
      'section.card.settings',
      { 'aria-label': t('Settings') },
      h('div.card-head', {}, h('h2', {}, t('Settings')), h('button.linkish', { type: 'button', onClick: () => settings.reset() }, t('Reset to defaults'))),
      settings.element,
    ),
    h('div.run-bar', {}, run, cancel, message),
  );

  function showProblem(err) {
    if (err.code === 'CANCELED') {
      clear(message, notice(t('Canceled: nothing was kept.')));
      return;
    }
    if (err instanceof FormError || err.details) {
      const rest = settings.showErrors(err.details || {});
      for (const extra of extras) {
        if (rest[extra.name]) {
          const slot = extra.element.querySelector('.field-error');
          slot.textContent = rest[extra.name];
          slot.hidden = false;
          delete rest[extra.name];
        }
      }
      if (!Object.keys(rest).length) {
        showError(message, err instanceof FormError ? t('Check the marked settings.') : t('{problem}: see the marked settings.', { problem: err.message.split(': ')[0] }));
        return;
      }
    }
    if (drop && isFileError(err)) drop.setError(err);
    else showError(message, err);
  }

  /** What the request carries: a JSON object when there is nothing to upload, else FormData with the
   * files and extra parts. A library file goes by id in the settings (fileId), beside any extra parts. */
  function requestBody(values, files) {
    if (!takesFiles || (libraryFile === null && files.length === 0 && tool.inputs.minFiles === 0)) return values;
    const body = new FormData();
    const field = isBatch(files) ? 'files' : 'file';
    if (!libraryFile) files.forEach((file) => body.append(field, file, file.name));
    for (const extra of extras) if (extra.file()) body.append(extra.name, extra.file(), extra.file().name);
    body.append('settings', JSON.stringify(libraryFile ? { fileId: libraryFile.id, ...values } : values));
    return body;
  }

  function checkInputs(files) {
    if (!takesFiles) return null;
    if (!libraryFile && files.length < tool.inputs.minFiles) {
      return tool.inputs.minFiles === 1 ? t('Choose a file first.') : t('Choose at least {count} files.', { count: tool.inputs.minFiles });
    }
    if (!single && files.length > tool.inputs.maxFiles) return t('This tool takes at most {count} files.', { count: tool.inputs.maxFiles });
    return null;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    settings.clearErrors();
    showError(message, null);
    drop?.setError(null);
    extras.forEach((e) => (e.element.querySelector('.field-error').hidden = true));
    const files = drop ? drop.files() : [];
    const problem = checkInputs(files);
    if (problem) {
      drop.setError(problem);
      return;
    }
    const missing = extras.find((e) => e.required && !e.file());
    if (missing && !isBatch(files)) {
      const slot = missing.element.querySelector('.field-error');
      slot.textContent = t('Required');
      slot.hidden = false;
      return;
    }
    let values;
    try {
      values = settings.values();
    } catch (err) {
      showProblem(err);
      return;
    }
    run.disabled = true;
    clear(resultSlot);
    const source = libraryFile ? { libraryFile } : files.length === 1 ? { file: files[0] } : null;
    try {
      if (isBatch(files)) {
        const batch = await runBatch(`${tool.endpoint}/batch`, requestBody(values, files), progress);
        clear(resultSlot, batchResultView(batch, files));
      } else {
        const result = await runJob(tool.endpoint, requestBody(values, files), progress, {
          onJob: (id) => {
            jobId = id;
            cancel.hidden = false;
          },
          track: (s) => (stream = s),
        });
        clear(resultSlot, resultView(result, { source }));
      }
    } catch (err) {
      progress.hide();
      showProblem(err);
    } finally {
      run.disabled = false;
      cancel.hidden = true;
      jobId = null;
    }
  });

  cancel.addEventListener('click', async () => {
    if (!jobId) return;
    cancel.disabled = true;
    try {
      await api.post(`/api/v1/jobs/${encodeURIComponent(jobId)}/cancel`);
    } catch (err) {
      showError(message, err);
    } finally {
      cancel.disabled = false;
    }
  });

  // Said before any upload: an AI tool whose model is missing would only answer 501.
  const note = modelNote(tool, {
    onInstalled: async () => {
      await loadCatalog({ force: true });
      noteSlot.replaceChildren(notice(t('The {model} model is installed: the tool is ready.', { model: tool.featureName || tool.feature })));
    },
  });
  const noteSlot = h('div.tool-page-note', { hidden: !note }, note);
  append(main,
    header(tool),
    noteSlot,
    h(
      'div.tool-layout',
      {},
      h('div.tool-main', {}, form),
      h(
        'div.tool-side',
        {},
        progress.element,
        resultSlot,
        actionsPanel(tool, () => {
          // Actions take an upload (or no file at all for settings-only tools), not a library file.
          const files = drop ? drop.files() : [];
          if (!files.length) return takesFiles ? null : {};
          const body = new FormData();
          body.append('file', files[0], files[0].name);
          return body;
        }),
      ),
    ),
  );
  if (!takesFiles) main.querySelector('.tool-form').prepend(notice(t('This tool makes its output from the settings alone.')));
  if (!state.can('tools:use')) {
    run.disabled = true;
    showError(message, t('Your role does not include running tools (tools:use).'));
  }

  const preset = ctx.query.get('fileId');
  if (preset && state.can('files:own') && takesFiles) {
    try {
      setLibraryFile((await api.get(`/api/v1/files/${encodeURIComponent(preset)}`)).file);
    } catch (err) {
      drop?.setError(err);
    }
  }
}
