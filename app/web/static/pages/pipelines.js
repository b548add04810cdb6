// Pipelines: build a chain of tools (each step with its own generated settings form), run it on one
// file or many (a batch), save it under a name, and load or delete saved ones.

import { api } from '../api.js';
import { append, clear, confirmDialog, errorMessage, field, formatDate, h, onSubmit, showError } from '../dom.js';
import { FormError, schemaForm } from '../form.js';
import { dropZone } from '../inputs.js';
import { batchResultView, progressBar, resultView, runBatch, runJob } from '../results.js';
import { SECTIONS, loadCatalog, state } from '../state.js';
import { t } from '../i18n.js';

/** "Step 2 (convert): Invalid settings: ..." -> 1 (the step's index), or null. */
function stepOf(err) {
  const found = /^Step (\d+)\b/.exec(err.message || '');
  return found ? Number(found[1]) - 1 : null;
}

export async function render(main, ctx) {
  ctx.setTitle(t('Pipelines'));
  await loadCatalog();
  const usable = new Set((await api.get('/api/v1/pipeline/tools')).toolIds);
  const tools = state.tools.filter((tool) => usable.has(tool.id));
  let steps = [];
  let stream = null;
  ctx.onLeave(() => stream?.close());

  const stepList = h('ol.steps');
  const builderMessage = h('div.error-slot');
  const picker = h(
    'select',
    { 'aria-label': t('Tool to add') },
    h('option', { value: '' }, t('Choose a tool…')),
    SECTIONS.map(([section, title]) =>
      h('optgroup', { label: t(title) }, tools.filter((tool) => tool.section === section).map((tool) => h('option', { value: tool.id }, tool.title))),
    ),
  );

  function addStep(toolId, settings = {}) {
    const tool = state.toolById.get(toolId);
    if (!tool) return false;
    steps.push({ tool, form: schemaForm(tool.settingsSchema, { initial: settings }), message: h('div.error-slot') });
    drawSteps();
    return true;
  }

  function move(index, by) {
    const target = index + by;
    if (target < 0 || target >= steps.length) return;
    [steps[index], steps[target]] = [steps[target], steps[index]];
    drawSteps();
  }

  function drawSteps() {
    clear(
      stepList,
      steps.map((step, index) =>
        h(
          'li.step.card',
          { dataset: { tool: step.tool.id } },
          h(
            'div.card-head',
            {},
            h('h3', {}, `${index + 1}. ${step.tool.title}`),
            h(
              'div.step-buttons',
              {},
              h('button.icon', { type: 'button', 'aria-label': t('Move step {n} up', { n: index + 1 }), disabled: index === 0, onClick: () => move(index, -1) }, '↑'),
              h('button.icon', { type: 'button', 'aria-label': t('Move step {n} down', { n: index + 1 }), disabled: index === steps.length - 1, onClick: () => move(index, 1) }, '↓'),
              h(
                'button.icon',
                {
                  type: 'button',
                  'aria-label': t('Remove step {n}', { n: index + 1 }),
                  onClick: () => {
                    steps.splice(index, 1);
                    drawSteps();
                  },
                },
                '×',
              ),
            ),
          ),
          h('details', { open: true }, h('summary', {}, t('Settings')), step.form.element),
          step.message,
        ),
      ),
      steps.length ? null : h('li.muted.empty-steps', {}, t('No steps yet: add the first tool below.')),
    );
  }

  /** The pipeline as the API takes it; marks the first unreadable setting and throws. */
  function definition() {
    for (const step of steps) {
      step.form.clearErrors();
      showError(step.message, null);
    }
    showError(builderMessage, null);
    if (!steps.length) throw new Error(t('Add at least one step.'));
    return steps.map((step) => {
      try {
        return { toolId: step.tool.id, settings: step.form.values() };
      } catch (err) {
        if (err instanceof FormError) step.form.showErrors(err.details);
        throw err;
      }
    });
  }

  /** definition(), with unreadable settings reported as one message (they are marked in their step). */
  function checkedSteps() {
    try {
      return definition();
    } catch (err) {
      throw err instanceof FormError ? new Error(t('Check the marked settings.')) : err;
    }
  }

  /** Server errors name the step ("Step 2 (...): ..."): the message goes to that step's card. */
  function showProblem(err, fallbackSlot) {
    const index = stepOf(err);
    if (index !== null && steps[index]) {
      const rest = steps[index].form.showErrors(err.details || {});
      showError(steps[index].message, Object.keys(rest).length || !err.details ? err : null);
      showError(fallbackSlot, t('Step {n} needs attention.', { n: index + 1 }));
    } else {
      showError(fallbackSlot, err);
    }
  }

  picker.addEventListener('change', () => {
    if (picker.value && addStep(picker.value)) picker.value = '';
  });

  // -- save --
  const nameInput = h('input', { name: 'name', maxlength: 100, placeholder: t('e.g. Web thumbnails') });
  const descInput = h('input', { name: 'description', maxlength: 500 });
  const saveMessage = h('div.error-slot');
  const saveForm = h(
    'form.save-form',
    { novalidate: true, 'aria-label': t('Save pipeline') },
    field(t('Name'), nameInput),
    field(t('Description'), descInput),
    h('div.actions', {}, h('button.secondary', { type: 'submit' }, t('Save pipeline'))),
    saveMessage,
  );
  onSubmit(saveForm, saveMessage, async () => {
    const body = { name: nameInput.value.trim(), description: descInput.value.trim() || null, steps: checkedSteps() };
    if (!body.name) throw new FormError({ name: t('Give the pipeline a name') });
    let saved;
    try {
      saved = await api.post('/api/v1/pipeline/save', body);
    } catch (err) {
      if (stepOf(err) === null) throw err;
      showProblem(err, saveMessage);
      return;
    }
    clear(saveMessage, h('p.ok', { role: 'status' }, t('Saved “{name}”.', { name: saved.name })));
    await drawSaved();
  });

  // -- run --
  const drop = dropZone({ label: t('Drop a file to run the pipeline on (several run as a batch)') });
  const progress = progressBar();
  const runMessage = h('div.error-slot');
  const resultSlot = h('div.result-slot');
  const runButton = h('button.primary', { type: 'submit' }, t('Run pipeline'));
  const runForm = h('form.run-form', { novalidate: true, 'aria-label': t('Run pipeline') }, drop.element, h('div.run-bar', {}, runButton, runMessage));
  runForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    drop.setError(null);
    clear(resultSlot);
    let pipeline;
    try {
      pipeline = { steps: checkedSteps() };
    } catch (err) {
      showError(runMessage, err);
      return;
    }
    const files = drop.files();
    if (!files.length) {
      drop.setError(t('Choose a file first.'));
      return;
    }
    showError(runMessage, null);
    const body = new FormData();
    files.forEach((file) => body.append(files.length > 1 ? 'files' : 'file', file, file.name));
    body.append('pipeline', JSON.stringify(pipeline));
    runButton.disabled = true;
    try {
      if (files.length > 1) {
        clear(resultSlot, batchResultView(await runBatch('/api/v1/pipeline/batch', body, progress), files));
      } else {
        const result = await runJob('/api/v1/pipeline/execute', body, progress, { track: (s) => (stream = s) });
        clear(resultSlot, resultView(result, { source: { file: files[0] } }));
      }
    } catch (err) {
      progress.hide();
      if (err.status === 415 || err.status === 413 || (err.status === 400 && !err.details && stepOf(err) === null)) drop.setError(err);
      else showProblem(err, runMessage);
    } finally {
      runButton.disabled = false;
    }
  });

  // -- saved --
  const savedList = h('div.saved-list');
  async function drawSaved() {
    try {
      const { pipelines } = await api.get('/api/v1/pipeline/list');
      clear(
        savedList,
        pipelines.length
          ? h(
              'ul.cards',
              {},
              pipelines.map((p) =>
                h(
                  'li.card.saved-pipeline',
                  { dataset: { pipeline: p.id } },
                  h('h3', {}, p.name),
                  p.description ? h('p', {}, p.description) : null,
                  h('p.chain', {}, p.steps.map((s) => state.toolById.get(s.toolId)?.title || s.toolId).join(' → ')),
                  h('p.muted', {}, formatDate(p.createdAt)),
                  h(
                    'div.actions',
                    {},
                    h('button.secondary', { type: 'button', onClick: () => load(p) }, t('Load')),
                    h(
                      'button.danger',
                      {
                        type: 'button',
                        onClick: async () => {
                          if (!(await confirmDialog(t('Delete the pipeline “{name}”?', { name: p.name })))) return;
                          try {
                            await api.del(`/api/v1/pipeline/${encodeURIComponent(p.id)}`);
                            await drawSaved();
                          } catch (err) {
                            clear(savedList, errorMessage(err));
                          }
                        },
                      },
                      t('Delete'),
                    ),
                  ),
                ),
              ),
            )
          : h('p.muted', {}, t('No saved pipelines yet.')),
      );
    } catch (err) {
      clear(savedList, errorMessage(err));
    }
  }

  function load(pipeline) {
    steps = [];
    const missing = pipeline.steps.filter((s) => !addStep(s.toolId, s.settings)).map((s) => s.toolId);
    drawSteps();
    nameInput.value = pipeline.name;
    descInput.value = pipeline.description || '';
    showError(builderMessage, missing.length ? t('Not available any more, left out: {tools}', { tools: missing.join(', ') }) : null);
    stepList.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  drawSteps();
  append(main,
    h('div.page-head', {}, h('h1', {}, t('Pipelines')), h('p.lead', {}, t('Chain tools: each step works on the previous step’s output.'))),
    h(
      'div.pipeline-layout',
      {},
      h(
        'div.pipeline-main',
        {},
        h('section.card.builder', { 'aria-label': t('Steps') }, h('h2', {}, t('Steps')), stepList, h('div.add-step', {}, picker), builderMessage),
        h('section.card', { 'aria-label': t('Run') }, h('h2', {}, t('Run')), runForm, progress.element, resultSlot),
      ),
      h('div.pipeline-side', {}, h('section.card', { 'aria-label': t('Save') }, h('h2', {}, t('Save')), saveForm), h('section', { 'aria-label': t('Saved pipelines') }, h('h2', {}, t('Saved pipelines')), savedList)),
    ),
  );
  await drawSaved();
}
