// Automations: a folder watched for new files (or processed on a schedule) through a saved pipeline.
// Create one from a saved pipeline, see its last runs and errors, pause it, run it now.

import { api } from '../api.js';
import { append, clear, confirmDialog, errorMessage, field, formatDate, h, onSubmit, table } from '../dom.js';
import { FormError } from '../form.js';
import { formatNumber, t, tk } from '../i18n.js';

const CONFLICTS = [
  ['suffix', tk('Keep both (add -1, -2 …)')],
  ['overwrite', tk('Overwrite')],
  ['skip', tk('Skip the file')],
];
const AFTER = [
  ['keep', tk('Leave it where it is')],
  ['move', tk('Move it to done/')],
  ['delete', tk('Delete it')],
];

function select(name, options, value) {
  return h('select', { name }, options.map(([v, label]) => h('option', { value: v, selected: v === value }, t(label))));
}

function statusText(a) {
  if (a.enabled) return a.trigger === 'schedule' ? t('Scheduled ({schedule}), next {when}', { schedule: a.schedule, when: formatDate(a.nextRunAt) }) : t('Watching');
  return a.disabledReason ? t('Turned off: {reason}', { reason: a.disabledReason }) : t('Paused');
}

function runsView(automation) {
  const slot = h('div.runs');
  let cursor = null;
  const rows = [];
  const more = h('button.secondary', { type: 'button', hidden: true }, t('Show older'));

  async function load() {
    try {
      const page = await api.get(`/api/v1/automations/${encodeURIComponent(automation.id)}/runs`, { limit: 20, cursor });
      cursor = page.nextCursor;
      for (const run of page.runs) {
        rows.push([
          run.input,
          h(`span.badge.status-${run.status}`, {}, run.status),
          run.outputPath ? h('code', {}, run.outputPath) : '—',
          run.error ? h('span.error-text', {}, run.error) : '',
          run.finishedAt ? formatDate(run.finishedAt) : '…',
          run.durationSeconds === null ? '' : t('{n} s', { n: formatNumber(run.durationSeconds, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) }),
        ]);
      }
      clear(slot, table([t('File'), t('Status'), t('Output'), t('Error'), t('Finished'), t('Took')], rows, { empty: t('No files taken yet.') }), more);
      more.hidden = !cursor;
    } catch (err) {
      clear(slot, errorMessage(err));
    }
  }
  more.addEventListener('click', load);
  load();
  return slot;
}

export async function render(main, ctx) {
  ctx.setTitle(t('Automations'));
  const [{ automations }, { pipelines }] = await Promise.all([api.get('/api/v1/automations'), api.get('/api/v1/pipeline/list')]);
  const pipelineNames = new Map(pipelines.map((p) => [p.id, p.name]));
  const list = h('div.automation-list');

  function card(a) {
    const runsSlot = h('div');
    const message = h('div.error-slot');
    const act = (label, call, cls = 'secondary') =>
      h(`button.${cls}`, {
        type: 'button',
        onClick: async () => {
          clear(message);
          try {
            await call();
          } catch (err) {
            clear(message, errorMessage(err));
          }
        },
      }, label);
    return h(
      'li.card.automation',
      { dataset: { automation: a.id } },
      h('h3', {}, a.name),
      h('p.status', {}, statusText(a)),
      h('p.chain', {}, a.pipelineId ? t('Pipeline: {name}', { name: pipelineNames.get(a.pipelineId) || a.pipelineId }) : t('Steps: {steps}', { steps: (a.steps || []).map((s) => s.toolId).join(' → ') })),
      h('p.muted', {}, `${a.source.path} → ${a.output.path} (${a.filter.globs.join(', ')})`),
      h(
        'div.actions',
        {},
        act(t('Run now'), async () => {
          const { filesTaken } = await api.post(`/api/v1/automations/${encodeURIComponent(a.id)}/run`);
          clear(message, h('p.ok', { role: 'status' }, t('{count} file(s) taken.', { count: filesTaken })));
          clear(runsSlot, runsView(a));
        }),
        act(a.enabled ? t('Pause') : t('Resume'), async () => {
          await api.patch(`/api/v1/automations/${encodeURIComponent(a.id)}`, { enabled: !a.enabled });
          await drawList();
        }),
        act(t('Runs'), async () => clear(runsSlot, runsView(a))),
        act(t('Delete'), async () => {
          if (!(await confirmDialog(t('Delete the automation “{name}”? Its folders and files stay.', { name: a.name })))) return;
          await api.del(`/api/v1/automations/${encodeURIComponent(a.id)}`);
          await drawList();
        }, 'danger'),
      ),
      message,
      runsSlot,
    );
  }

  async function drawList() {
    try {
      const { automations: current } = await api.get('/api/v1/automations');
      clear(list, current.length ? h('ul.cards', {}, current.map(card)) : h('p.muted', {}, t('No automations yet.')));
    } catch (err) {
      clear(list, errorMessage(err));
    }
  }

  // -- create --
  const inputs = {
    name: h('input', { name: 'name', maxlength: 100, placeholder: t('e.g. Scanner to searchable PDF') }),
    source: h('input', { name: 'source', placeholder: 'scans/in' }),
    pipeline: h('select', { name: 'pipelineId' }, h('option', { value: '' }, t('Choose a saved pipeline…')), pipelines.map((p) => h('option', { value: p.id }, p.name))),
    output: h('input', { name: 'output', placeholder: 'scans/out' }),
    naming: h('input', { name: 'output.naming', value: '{stem}_{tool}.{ext}' }),
    conflict: select('output.onConflict', CONFLICTS, 'suffix'),
    after: select('afterSuccess', AFTER, 'keep'),
    globs: h('input', { name: 'filter.globs', value: '*', placeholder: '*.pdf, *.jpg' }),
    minAge: h('input', { name: 'filter.minAgeSeconds', type: 'number', min: 0, value: 5 }),
    trigger: select('trigger', [['watch', tk('When a file arrives')], ['schedule', tk('On a schedule')]], 'watch'),
    schedule: h('input', { name: 'schedule', placeholder: t('0 2 * * *  (every night at 02:00)') }),
  };
  function resetForm() {
    for (const input of [inputs.name, inputs.source, inputs.output, inputs.schedule]) input.value = '';
    inputs.pipeline.value = '';
    inputs.naming.value = '{stem}_{tool}.{ext}';
    inputs.conflict.value = 'suffix';
    inputs.after.value = 'keep';
    inputs.globs.value = '*';
    inputs.minAge.value = '5';
    inputs.trigger.value = 'watch';
    syncTrigger();
  }
  const scheduleField = field(t('Schedule (cron)'), inputs.schedule, t('Minute hour day month weekday, in the server’s UTC time.'));
  const syncTrigger = () => (scheduleField.hidden = inputs.trigger.value !== 'schedule');
  inputs.trigger.addEventListener('change', syncTrigger);
  syncTrigger();
  const createMessage = h('div.error-slot');
  const form = h(
    'form.automation-form',
    { novalidate: true, 'aria-label': t('New automation') },
    field(t('Name'), inputs.name),
    field(t('Saved pipeline'), inputs.pipeline, pipelines.length ? null : t('Save a pipeline on the Pipelines page first.')),
    field(t('Watch folder'), inputs.source, t('Relative to the watch root (WATCH_ROOT) or an absolute path inside it.')),
    field(t('Output folder'), inputs.output, t('Not inside the watch folder.')),
    field(t('Output name'), inputs.naming, '{stem}, {name}, {tool} (the last step), {ext}'),
    field(t('When the output exists'), inputs.conflict),
    field(t('After success, the input is'), inputs.after),
    field(t('Files to take'), inputs.globs, t('Comma-separated patterns.')),
    field(t('Wait until unchanged for (seconds)'), inputs.minAge, t('So that half-copied files are never taken.')),
    field(t('Run'), inputs.trigger),
    scheduleField,
    h('div.actions', {}, h('button.primary', { type: 'submit' }, t('Create automation'))),
    createMessage,
  );
  onSubmit(form, createMessage, async () => {
    if (!inputs.pipeline.value) throw new FormError({ pipelineId: t('Choose a saved pipeline') });
    const body = {
      name: inputs.name.value.trim(),
      source: { type: 'folder', path: inputs.source.value.trim() },
      pipelineId: inputs.pipeline.value,
      output: { path: inputs.output.value.trim(), naming: inputs.naming.value.trim(), onConflict: inputs.conflict.value },
      afterSuccess: inputs.after.value,
      filter: { globs: inputs.globs.value.split(',').map((g) => g.trim()).filter(Boolean), minAgeSeconds: Number(inputs.minAge.value || 0) },
      trigger: inputs.trigger.value,
    };
    if (body.trigger === 'schedule') body.schedule = inputs.schedule.value.trim();
    const created = await api.post('/api/v1/automations', body);
    clear(createMessage, h('p.ok', { role: 'status' }, t('Created “{name}”.', { name: created.name })));
    resetForm();
    await drawList();
  });

  append(
    main,
    h('div.page-head', {}, h('h1', {}, t('Automations')), h('p.lead', {}, t('Files dropped into a folder run through a saved pipeline; results land in another folder.'))),
    h(
      'div.pipeline-layout',
      {},
      h('div.pipeline-main', {}, h('section', { 'aria-label': t('Automations') }, h('h2', {}, t('Your automations')), list)),
      h('div.pipeline-side', {}, h('section.card', { 'aria-label': t('New automation') }, h('h2', {}, t('New automation')), form)),
    ),
  );
  clear(list, automations.length ? h('ul.cards', {}, automations.map(card)) : h('p.muted', {}, t('No automations yet.')));
}
