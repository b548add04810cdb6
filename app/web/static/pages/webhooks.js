// Settings › Webhooks: register URLs that receive signed events, see each delivery's attempts, send a
// test event, redeliver, rotate the secret. The secret is shown once, when created or rotated.

import { api } from '../api.js';
import {
  append, checkGroup, checkedValues, clear, confirmDialog, copyButton, errorMessage, field, formatDate, h, onSubmit,
  showError, table,
} from '../dom.js';
import { state } from '../state.js';
import { t } from '../i18n.js';

// The same list as EVENT_TYPES in app/webhooks/outbox.py; user.login_failed needs webhooks:manage.
const EVENTS = [
  'job.completed', 'job.failed', 'job.canceled', 'batch.completed', 'pipeline.completed',
  'file.created', 'file.deleted', 'apikey.created', 'apikey.revoked', 'user.login_failed',
];
const SYSTEM_EVENTS = ['user.login_failed'];

export async function webhooksTab(panel) {
  const list = h('div.webhooks-list');
  const shown = h('div.secret-slot');
  const message = h('div.error-slot');
  const url = h('input', { name: 'url', type: 'url', required: true, maxlength: 2048, placeholder: 'https://example.com/lutra-hook' });
  const description = h('input', { name: 'description', maxlength: 500, placeholder: t('e.g. notify the CMS') });
  const allowed = EVENTS.filter((e) => !SYSTEM_EVENTS.includes(e) || state.can('webhooks:manage'));
  const events = checkGroup(t('Events (none ticked: all)'), allowed, 'events');
  const form = h(
    'form.webhook-form',
    { novalidate: true, 'aria-label': t('Add webhook') },
    h('div.row', {}, field(t('URL'), url), field(t('Description (optional)'), description)),
    events,
    h('div.actions', {}, h('button.primary', { type: 'submit' }, t('Add webhook'))),
    message,
  );
  onSubmit(form, message, async () => {
    const ticked = checkedValues(events, 'events');
    const hook = await api.post('/api/v1/webhooks', {
      url: url.value.trim(),
      description: description.value.trim(),
      events: ticked.length ? ticked : ['*'],
    });
    form.reset();
    showSecret(t('Webhook for {url} added', { url: hook.url }), hook.secret);
    await draw();
  });

  function showSecret(title, secret) {
    clear(
      shown,
      h(
        'div.card.key-once',
        { role: 'status' },
        h('h3', {}, title),
        h('p', {}, t('Copy the signing secret now: it is never shown again. Verify each delivery with it (Standard Webhooks).')),
        h('div.key-box', {}, h('code.webhook-secret', {}, secret), copyButton(secret)),
      ),
    );
  }

  function action(label, aria, run, cls = 'button.secondary.small') {
    return h(cls, {
      type: 'button',
      'aria-label': aria,
      onClick: async () => {
        try {
          await run();
        } catch (err) {
          showError(message, err);
        }
      },
    }, label);
  }

  async function draw() {
    try {
      const { webhooks } = await api.get('/api/v1/webhooks');
      clear(
        list,
        table(
          [t('URL'), t('Events'), t('Status'), t('Created'), ''],
          webhooks.map((hook) => [
            h('span.webhook-url', {}, hook.url, hook.description ? h('span.muted', {}, ` ${hook.description}`) : null),
            h('span.badges', {}, hook.events.map((e) => h('span.badge', {}, e === '*' ? 'all events' : e))),
            hook.enabled
              ? h('span.badge.status-ok', {}, t('enabled'))
              : h('span.badge.status-bad', { title: hook.disabledReason || '' }, t('disabled')),
            formatDate(hook.createdAt),
            h(
              'div.actions',
              {},
              action(t('Test'), t('Send a test event to {url}', { url: hook.url }), async () => {
                await api.post(`/api/v1/webhooks/${encodeURIComponent(hook.id)}/test`);
                await openDeliveries(hook);
              }),
              action(t('Deliveries'), t('Deliveries to {url}', { url: hook.url }), () => openDeliveries(hook)),
              action(hook.enabled ? t('Disable') : t('Enable'), hook.enabled ? t('Disable {url}', { url: hook.url }) : t('Enable {url}', { url: hook.url }), async () => {
                await api.patch(`/api/v1/webhooks/${encodeURIComponent(hook.id)}`, { enabled: !hook.enabled });
                await draw();
              }),
              action(t('Rotate secret'), t('New secret for {url}', { url: hook.url }), async () => {
                if (!(await confirmDialog(t('Replace the signing secret? Receivers must use the new one at once.'), { confirmLabel: t('Rotate') }))) return;
                const { secret } = await api.post(`/api/v1/webhooks/${encodeURIComponent(hook.id)}/rotate-secret`);
                showSecret(t('New secret for {url}', { url: hook.url }), secret);
              }),
              action(t('Delete'), t('Delete webhook {url}', { url: hook.url }), async () => {
                if (!(await confirmDialog(t('Delete the webhook for {url} and its delivery log?', { url: hook.url })))) return;
                await api.del(`/api/v1/webhooks/${encodeURIComponent(hook.id)}`);
                clear(deliveries);
                await draw();
              }, 'button.danger.small'),
            ),
          ]),
          { empty: t('No webhooks yet.') },
        ),
      );
    } catch (err) {
      clear(list, errorMessage(err));
    }
  }

  const deliveries = h('section.webhook-deliveries', { 'aria-label': t('Deliveries') });
  let following = null;

  async function openDeliveries(hook) {
    following = hook;
    clear(deliveries, h('h2', {}, t('Deliveries to {url}', { url: hook.url })), h('p.muted', {}, t('Loading…')));
    const { deliveries: rows } = await api.get(`/api/v1/webhooks/${encodeURIComponent(hook.id)}/deliveries`);
    if (following !== hook) return;
    clear(
      deliveries,
      h('h2', {}, t('Deliveries to {url}', { url: hook.url })),
      h('div.actions', {}, action(t('Refresh'), t('Refresh the deliveries'), () => openDeliveries(hook))),
      table(
        [t('Event'), 'webhook-id', t('Status'), t('Attempts'), t('Sent'), ''],
        rows.map((d) => [
          d.eventType,
          h('code', {}, d.id),
          h(`span.badge.${d.status === 'succeeded' ? 'status-ok' : d.status === 'failed' ? 'status-bad' : 'pending'}`, {}, d.status),
          h('ol.attempts', {}, d.attempts.map((a) => h('li', {}, `${a.status ?? a.error} · ${a.durationMs} ms · ${formatDate(a.timestamp)}`))),
          formatDate(d.createdAt),
          action(t('Redeliver'), t('Redeliver {id}', { id: d.id }), async () => {
            await api.post(`/api/v1/webhooks/${encodeURIComponent(hook.id)}/deliveries/${encodeURIComponent(d.id)}/redeliver`);
            await openDeliveries(hook);
          }),
        ]),
        { empty: t('Nothing sent yet: events are sent within seconds.') },
      ),
    );
  }

  append(panel,
    h(
      'section.card',
      { 'aria-label': t('New webhook') },
      h('h2', {}, t('New webhook')),
      h('p.muted', {}, t('Lutra POSTs each event as JSON, signed with the webhook-id, webhook-timestamp and webhook-signature headers, and retries failures for about an hour.')),
      form,
      shown,
    ),
    h('section', { 'aria-label': t('Webhooks') }, h('h2', {}, t('Your webhooks')), list),
    deliveries,
  );
  await draw();
}
