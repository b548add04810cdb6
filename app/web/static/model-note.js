// "Needs the X model (N MB)": shown on an AI tool's card and page while its model is not installed,
// before anyone uploads a file. Administrators get an install button (the features install job);
// everyone else is told who can install it.

import { formatBytes, h, showError } from './dom.js';
import { t } from './i18n.js';
import { progressBar, runJob } from './results.js';
import { forgetCatalog, state } from './state.js';

export function needsModel(tool) {
  return Boolean(tool.feature) && tool.featureInstalled === false;
}

/** The note for `tool`, or null when it can run; `onInstalled` runs after a successful install. */
export function modelNote(tool, { onInstalled, compact = false } = {}) {
  if (!needsModel(tool)) return null;
  const model = tool.featureName || tool.feature;
  const text = tool.featureDownloadSize > 0
    ? t('Needs the {model} model ({size}), which is not installed yet.', { model, size: formatBytes(tool.featureDownloadSize) })
    : t('Needs the {model} model, which is not installed yet.', { model });
  const message = h('div.error-slot');
  const progress = progressBar();
  let action;
  if (state.can('features:manage')) {
    action = h(
      'button.primary.small.install-model',
      {
        type: 'button',
        'aria-label': t('Install the {model} model for {tool}', { model, tool: tool.title }),
        onClick: async (event) => {
          const button = event.currentTarget;
          button.disabled = true;
          showError(message, null);
          try {
            await runJob(`/api/v1/admin/features/${encodeURIComponent(tool.feature)}/install`, {}, progress);
            forgetCatalog();
            await onInstalled?.();
          } catch (err) {
            progress.hide();
            showError(message, err);
            button.disabled = false;
          }
        },
      },
      t('Install'),
    );
  } else {
    action = h('span.muted', {}, compact ? t('An administrator can install it.') : t('An administrator can install it under Settings › AI features.'));
  }
  return h('div.model-note', { dataset: { feature: tool.feature } }, h('p', {}, text, ' ', action), progress.element, message);
}
