// The AI features tab of Settings: which model bundles exist, what is installed and how much disk it
// takes; install a bundle's models (a job with live progress), import model files on a host without
// internet, uninstall.

import { api, upload } from '../api.js';
import { append, clear, confirmDialog, errorMessage, formatBytes, h, showError, table } from '../dom.js';
import { progressBar, runJob } from '../results.js';
import { forgetCatalog, loadCatalog, state } from '../state.js';
import { t } from '../i18n.js';

function bundleCard(bundle, redraw, ctx) {
  const message = h('div.error-slot');
  const progress = progressBar();
  const missing = bundle.models.filter((m) => !m.installed);
  const downloadable = missing.filter((m) => m.source === 'download');
  const importable = missing.filter((m) => m.source !== 'package');
  const url = (action) => `/api/v1/admin/features/${encodeURIComponent(bundle.id)}/${action}`;
  let jobId = null;
  let stream = null;
  ctx.onLeave(() => stream?.close());

  const cancel = h(
    'button.secondary.small',
    {
      type: 'button',
      hidden: true,
      onClick: () => jobId && api.post(`/api/v1/jobs/${encodeURIComponent(jobId)}/cancel`).catch((err) => showError(message, err)),
    },
    t('Cancel'),
  );

  async function install(button) {
    button.disabled = true;
    showError(message, null);
    try {
      await runJob(url('install'), {}, progress, {
        onJob: (id) => {
          jobId = id;
          cancel.hidden = false;
        },
        track: (s) => (stream = s),
      });
      forgetCatalog();
      await redraw();
    } catch (err) {
      progress.hide();
      showError(message, err);
    } finally {
      button.disabled = false;
      cancel.hidden = true;
    }
  }

  const importInput = h('input', { type: 'file', multiple: true, 'aria-label': t('Model files for {name}', { name: bundle.name }) });
  async function importFiles() {
    if (!importInput.files.length) {
      showError(message, t('Choose the model files first.'));
      return;
    }
    const body = new FormData();
    [...importInput.files].forEach((file) => body.append('files', file, file.name));
    showError(message, null);
    try {
      progress.set(0, t('Uploading'));
      await upload(url('import'), body, { onProgress: (pct) => progress.set(pct, t('Uploading')) });
      forgetCatalog();
      await redraw();
    } catch (err) {
      progress.hide();
      showError(message, err);
    }
  }

  const installButton = h('button.primary.small', { type: 'button' }, t('Install ({size})', { size: formatBytes(downloadable.reduce((n, m) => n + (m.size || 0), 0)) }));
  installButton.addEventListener('click', () => install(installButton));
  return h(
    'article.card.bundle',
    { dataset: { bundle: bundle.id } },
    h(
      'div.card-head',
      {},
      h('h3', {}, bundle.name, ' ', h(`span.badge.status-${bundle.installed ? 'ok' : 'bad'}`, {}, bundle.installed ? t('installed') : t('not installed'))),
      h('span.muted', {}, t('{size} on disk', { size: formatBytes(bundle.sizeOnDisk) })),
    ),
    h('p', {}, bundle.description),
    bundle.tools?.length ? h('p.muted', {}, t('Tools:'), ' ', bundle.tools.map((id) => state.toolById.get(id)?.title || id).join(', ')) : null,
    bundle.missingPackages?.length ? errorMessage(t('Needs Python packages: {packages} (install Lutra’s AI extra).', { packages: bundle.missingPackages.join(', ') })) : null,
    table(
      [t('Model'), t('Size'), t('Licence'), t('From'), ''],
      bundle.models.map((m) => [
        h('span', {}, h('strong', {}, m.id), m.required ? h('span.badge', {}, t('required')) : null, h('br'), h('small.muted', {}, m.description)),
        formatBytes(m.size),
        m.license || '–',
        m.source,
        m.installed ? h('span.ok', {}, t('installed')) : h('span.muted', {}, t('missing')),
      ]),
    ),
    h(
      'div.actions',
      {},
      downloadable.length ? installButton : null,
      cancel,
      bundle.sizeOnDisk > 0
        ? h(
            'button.danger.small',
            {
              type: 'button',
              onClick: async () => {
                if (!(await confirmDialog(t('Remove the downloaded models of {name}?', { name: bundle.name }), { confirmLabel: t('Uninstall') }))) return;
                try {
                  await api.post(url('uninstall'));
                  forgetCatalog();
                  await redraw();
                } catch (err) {
                  showError(message, err);
                }
              },
            },
            t('Uninstall'),
          )
        : null,
    ),
    importable.length
      ? h(
          'details.import',
          {},
          h('summary', {}, t('Import model files (for a server without internet)')),
          h('p.muted', {}, t('Expected: {files}', { files: importable.map((m) => m.id).join(', ') })),
          h('div.actions', {}, importInput, h('button.secondary.small', { type: 'button', onClick: importFiles }, t('Import'))),
        )
      : null,
    progress.element,
    message,
  );
}

export async function featuresTab(panel, ctx) {
  const list = h('div.bundles');
  const usage = h('p.muted');

  async function redraw() {
    const [{ bundles }, disk] = await Promise.all([
      api.get('/api/v1/features'),
      api.get('/api/v1/admin/features/disk-usage'),
      loadCatalog(),
    ]);
    usage.textContent = t('AI models take {size} in {folder}.', { size: formatBytes(disk.totalBytes), folder: disk.modelsDir });
    clear(list, bundles.length ? bundles.map((bundle) => bundleCard(bundle, redraw, ctx)) : h('p.muted', {}, t('No AI features in this build.')));
  }

  append(panel, h('section', { 'aria-label': t('AI features') }, h('h2', {}, t('AI features')), usage, list));
  await redraw();
}
