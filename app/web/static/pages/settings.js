// Settings: tabs shown by permission. Your profile, password and usage; your API keys and webhooks; and for
// administrators users, teams, roles, the audit log, tool availability and system health (admin.js),
// and the AI model bundles (features.js).

import { api } from '../api.js';
import {
  append, checkGroup, checkedValues, clear, confirmDialog, copyButton, errorMessage, facts, field, formatBytes, formatDate, formatDuration, h,
  onSubmit, showError, table,
} from '../dom.js';
import * as admin from './admin.js';
import { featuresTab } from './features.js';
import { passwordForm } from './login.js';
import { webhooksTab } from './webhooks.js';
import { profileCard as mfaCard } from './mfa.js';
import { brandingTab } from './branding.js';
import { LOCALES, locale, t, tk } from '../i18n.js';
import { prefs, setLocalePreference, setTheme } from '../prefs.js';
import { loadSession, sectionTitle, state } from '../state.js';

const TABS = [
  { id: 'profile', label: tk('Profile'), render: profileTab },
  { id: 'api-keys', label: tk('API keys'), permission: 'apikeys:own', render: keysTab },
  { id: 'webhooks', label: tk('Webhooks'), render: webhooksTab },
  { id: 'users', label: tk('Users'), permission: 'users:manage', render: admin.usersTab },
  { id: 'teams', label: tk('Teams'), permission: 'teams:manage', render: admin.teamsTab },
  { id: 'roles', label: tk('Roles'), permission: 'audit:read', render: admin.rolesTab },
  { id: 'audit', label: tk('Audit log'), permission: 'audit:read', render: admin.auditTab },
  { id: 'tools', label: tk('Tools'), permission: 'settings:write', render: admin.toolsTab },
  { id: 'branding', label: tk('Branding'), permission: 'settings:write', render: brandingTab },
  { id: 'ai', label: tk('AI features'), permission: 'features:manage', render: featuresTab },
  { id: 'system', label: tk('System'), permission: 'system:health', render: admin.systemTab },
];

export async function render(main, ctx) {
  const tabs = TABS.filter((tab) => !tab.permission || state.can(tab.permission));
  const current = tabs.find((tab) => tab.id === (ctx.params.tab || 'profile'));
  append(main,
    h('div.page-head', {}, h('h1', {}, t('Settings'))),
    h(
      'nav.tabs',
      { 'aria-label': t('Settings sections') },
      tabs.map((tab) => h('a', { href: `/settings/${tab.id}`, 'aria-current': tab === current ? 'page' : null }, t(tab.label))),
    ),
  );
  const panel = h('div.tab-panel');
  append(main, panel);
  if (!current) {
    append(panel, errorMessage(t('This section does not exist or your role does not include it.')));
    return;
  }
  ctx.setTitle(`${t(current.label)} · ${t('Settings')}`);
  await current.render(panel, ctx);
}

// -- profile --

/** Theme: follow the system, or always light or dark; saved with the user's preferences. */
function appearanceCard(ctx) {
  const slot = h('div.status-slot');
  const choice = h(
    'select',
    { name: 'theme' },
    [['system', t('Same as the system')], ['light', t('Light')], ['dark', t('Dark')]].map(([value, label]) =>
      h('option', { value, selected: prefs.theme === value }, label),
    ),
  );
  choice.addEventListener('change', async () => {
    clear(slot);
    try {
      await setTheme(choice.value);
      append(slot, h('p.ok', { role: 'status' }, t('Saved.')));
    } catch (err) {
      append(slot, errorMessage(err));
    }
  });
  return h('section.card', { 'aria-label': t('Appearance') }, h('h2', {}, t('Appearance')), field(t('Theme'), choice), languageField(ctx, slot), slot);
}

/** Language: follow the browser, or one of the six; saved with the preferences, the page redrawn in it. */
function languageField(ctx, slot) {
  const choice = h(
    'select',
    { name: 'locale' },
    h('option', { value: '', selected: !prefs.locale }, t('Same as the browser')),
    LOCALES.map(([value, name]) => h('option', { value, lang: value, selected: prefs.locale === value }, name)),
  );
  choice.addEventListener('change', async () => {
    clear(slot);
    try {
      await setLocalePreference(choice.value || null);
      ctx.navigate(location.pathname, { replace: true });
    } catch (err) {
      append(slot, errorMessage(err));
    }
  });
  // Named in English too, so that someone who cannot read the language shown still finds the way back.
  return field(t('Language'), choice, locale() === 'en' ? null : 'Language');
}

async function profileTab(panel, ctx) {
  const user = state.user;
  append(panel,
    h(
      'section.card',
      { 'aria-label': t('Profile') },
      h('h2', {}, t('Profile')),
      facts([
        [t('Username'), h('span.username', {}, user.username)],
        [t('Role'), user.role],
        [t('Team'), user.teamName || user.team || '–'],
        [t('Permissions'), h('span.badges', {}, user.permissions.map((p) => h('span.badge', {}, p)))],
      ]),
    ),
  );
  append(panel, appearanceCard(ctx));
  if (state.authEnabled && state.user.loginMethod !== 'apikey') append(panel, mfaCard());
  if (state.authEnabled && state.user.authProvider !== 'oidc') {
    const done = h('div.status-slot');
    append(panel,
      h(
        'section.card',
        { 'aria-label': t('Password') },
        h('h2', {}, t('Password')),
        passwordForm({
          onDone: async () => {
            await loadSession();
            clear(done, h('p.ok', { role: 'status' }, t('Password changed. Your other sessions ended and your API keys were revoked.')));
          },
        }),
        done,
      ),
    );
  }
  const usage = h('section.card', { 'aria-label': t('Usage') }, h('h2', {}, t('Usage this month')));
  append(panel, usage);
  try {
    append(usage, usageView(await api.get('/api/v1/usage')));
  } catch (err) {
    append(usage, errorMessage(err));
  }
}

// Jobs without a tool of their own (the usage report's "pipeline" section).
const PIPELINE_RUNS = { pipeline: tk('Pipeline'), batch: tk('Pipeline batch') };

function usageView(report) {
  const quota = report.storage.quotaBytes;
  return [
    facts([
      [t('Jobs'), t('{total} ({succeeded} succeeded, {failed} failed, {canceled} canceled)', report.jobs)],
      [t('Data'), t('{in} in, {out} out', { in: formatBytes(report.bytesIn), out: formatBytes(report.bytesOut) })],
      [t('Processing time'), formatDuration(report.processingSeconds)],
      [t('Library'), quota
        ? t('{used} in {count} file versions of {quota}', { used: formatBytes(report.storage.usedBytes), count: report.storage.fileVersions, quota: formatBytes(quota) })
        : t('{used} in {count} file versions', { used: formatBytes(report.storage.usedBytes), count: report.storage.fileVersions })],
    ]),
    table(
      [t('Tool'), t('Section'), t('Jobs'), t('Failed'), t('In'), t('Out')],
      report.byTool.map((row) => [state.toolById.get(row.toolId)?.title || (PIPELINE_RUNS[row.toolId] ? t(PIPELINE_RUNS[row.toolId]) : row.toolId), sectionTitle(row.section), row.total, row.failed, formatBytes(row.bytesIn), formatBytes(row.bytesOut)]),
      { empty: t('No jobs this month.') },
    ),
  ];
}

// -- API keys --

async function keysTab(panel) {
  const list = h('div.keys-list');
  const created = h('div.key-created');
  const name = h('input', { name: 'name', maxlength: 100, placeholder: t('e.g. backup script') });
  const expires = h('input', { name: 'expiresAt', type: 'date' });
  const perms = checkGroup(t('Permissions (none ticked: all of yours)'), state.user.permissions, 'permissions');
  const message = h('div.error-slot');
  const form = h(
    'form.key-form',
    { novalidate: true, 'aria-label': t('Create API key') },
    h('div.row', {}, field(t('Name'), name), field(t('Expires (optional)'), expires)),
    h('details', {}, h('summary', {}, t('Limit its permissions')), perms),
    h('div.actions', {}, h('button.primary', { type: 'submit' }, t('Create key'))),
    message,
  );
  onSubmit(form, message, async () => {
    const body = { name: name.value.trim() || null };
    const scope = checkedValues(perms, 'permissions');
    if (scope.length) body.permissions = scope;
    if (expires.value) body.expiresAt = new Date(`${expires.value}T23:59:59`).toISOString();
    const key = await api.post('/api/v1/api-keys', body);
    form.reset();
    clear(
      created,
      h(
        'div.card.key-once',
        { role: 'status' },
        h('h3', {}, t('Key “{name}” created', { name: key.name })),
        h('p', {}, t('Copy it now: Lutra keeps only a hash and will never show it again.')),
        h('div.key-box', {}, h('code.api-key', {}, key.key), copyButton(key.key)),
      ),
    );
    await drawKeys();
  });

  async function drawKeys() {
    try {
      const { apiKeys } = await api.get('/api/v1/api-keys');
      clear(
        list,
        table(
          [t('Name'), t('Key'), t('Permissions'), t('Created'), t('Last used'), t('Expires'), ''],
          apiKeys.map((key) => [
            h('span.key-name', {}, key.name, key.userId !== state.user.id ? h('span.badge', { title: t('Owner {id}', { id: key.userId }) }, t('other user')) : null),
            h('code', {}, `${key.prefix}…`),
            key.permissions ? h('span.badges', {}, key.permissions.map((p) => h('span.badge', {}, p))) : t('all of the owner’s'),
            formatDate(key.createdAt),
            formatDate(key.lastUsedAt),
            key.expiresAt ? formatDate(key.expiresAt) : t('never'),
            h(
              'button.danger.small',
              {
                type: 'button',
                'aria-label': t('Delete key {name}', { name: key.name }),
                onClick: async () => {
                  if (!(await confirmDialog(t('Delete the API key “{name}”? Scripts using it stop working at once.', { name: key.name })))) return;
                  try {
                    await api.del(`/api/v1/api-keys/${encodeURIComponent(key.id)}`);
                    clear(created);
                    await drawKeys();
                  } catch (err) {
                    showError(message, err);
                  }
                },
              },
              t('Delete'),
            ),
          ]),
          { empty: t('No API keys yet.') },
        ),
      );
    } catch (err) {
      clear(list, errorMessage(err));
    }
  }

  append(panel,
    h(
      'section.card',
      { 'aria-label': t('New API key') },
      h('h2', {}, t('New API key')),
      h('p.muted', {}, t('Scripts send the key as “Authorization: Bearer si_…”. Changing your password revokes your keys.')),
      form,
      created,
    ),
    h('section', { 'aria-label': t('API keys') }, h('h2', {}, t('Your API keys')), list),
  );
  await drawKeys();
}
