// Settings: tabs shown by permission. Your profile, password and usage; your API keys and webhooks; and for
// administrators users, teams, roles, the audit log, tool availability and system health (admin.js),
// and the AI model bundles (features.js).

import { api } from '../api.js';
import {
  append, checkGroup, checkedValues, clear, confirmDialog, copyButton, errorMessage, facts, field, formatBytes, formatDate, h,
  onSubmit, showError, table,
} from '../dom.js';
import * as admin from './admin.js';
import { featuresTab } from './features.js';
import { passwordForm } from './login.js';
import { webhooksTab } from './webhooks.js';
import { profileCard as mfaCard } from './mfa.js';
import { brandingTab } from './branding.js';
import { prefs, setTheme } from '../prefs.js';
import { loadSession, state } from '../state.js';

const TABS = [
  { id: 'profile', label: 'Profile', render: profileTab },
  { id: 'api-keys', label: 'API keys', permission: 'apikeys:own', render: keysTab },
  { id: 'webhooks', label: 'Webhooks', render: webhooksTab },
  { id: 'users', label: 'Users', permission: 'users:manage', render: admin.usersTab },
  { id: 'teams', label: 'Teams', permission: 'teams:manage', render: admin.teamsTab },
  { id: 'roles', label: 'Roles', permission: 'audit:read', render: admin.rolesTab },
  { id: 'audit', label: 'Audit log', permission: 'audit:read', render: admin.auditTab },
  { id: 'tools', label: 'Tools', permission: 'settings:write', render: admin.toolsTab },
  { id: 'branding', label: 'Branding', permission: 'settings:write', render: brandingTab },
  { id: 'ai', label: 'AI features', permission: 'features:manage', render: featuresTab },
  { id: 'system', label: 'System', permission: 'system:health', render: admin.systemTab },
];

export async function render(main, ctx) {
  const tabs = TABS.filter((tab) => !tab.permission || state.can(tab.permission));
  const current = tabs.find((tab) => tab.id === (ctx.params.tab || 'profile'));
  append(main,
    h('div.page-head', {}, h('h1', {}, 'Settings')),
    h(
      'nav.tabs',
      { 'aria-label': 'Settings sections' },
      tabs.map((tab) => h('a', { href: `/settings/${tab.id}`, 'aria-current': tab === current ? 'page' : null }, tab.label)),
    ),
  );
  const panel = h('div.tab-panel');
  append(main, panel);
  if (!current) {
    append(panel, errorMessage('This section does not exist or your role does not include it.'));
    return;
  }
  ctx.setTitle(`${current.label} · Settings`);
  await current.render(panel, ctx);
}

// -- profile --

/** Theme: follow the system, or always light or dark; saved with the user's preferences. */
function appearanceCard() {
  const slot = h('div.status-slot');
  const choice = h(
    'select',
    { name: 'theme' },
    [['system', 'Same as the system'], ['light', 'Light'], ['dark', 'Dark']].map(([value, label]) =>
      h('option', { value, selected: prefs.theme === value }, label),
    ),
  );
  choice.addEventListener('change', async () => {
    clear(slot);
    try {
      await setTheme(choice.value);
      append(slot, h('p.ok', { role: 'status' }, 'Saved.'));
    } catch (err) {
      append(slot, errorMessage(err));
    }
  });
  return h('section.card', { 'aria-label': 'Appearance' }, h('h2', {}, 'Appearance'), field('Theme', choice), slot);
}

async function profileTab(panel) {
  const user = state.user;
  append(panel,
    h(
      'section.card',
      { 'aria-label': 'Profile' },
      h('h2', {}, 'Profile'),
      facts([
        ['Username', h('span.username', {}, user.username)],
        ['Role', user.role],
        ['Team', user.teamName || user.team || '–'],
        ['Permissions', h('span.badges', {}, user.permissions.map((p) => h('span.badge', {}, p)))],
      ]),
    ),
  );
  append(panel, appearanceCard());
  if (state.authEnabled && state.user.loginMethod !== 'apikey') append(panel, mfaCard());
  if (state.authEnabled && state.user.authProvider !== 'oidc') {
    const done = h('div.status-slot');
    append(panel,
      h(
        'section.card',
        { 'aria-label': 'Password' },
        h('h2', {}, 'Password'),
        passwordForm({
          onDone: async () => {
            await loadSession();
            clear(done, h('p.ok', { role: 'status' }, 'Password changed. Your other sessions ended and your API keys were revoked.'));
          },
        }),
        done,
      ),
    );
  }
  const usage = h('section.card', { 'aria-label': 'Usage' }, h('h2', {}, 'Usage this month'));
  append(panel, usage);
  try {
    append(usage, usageView(await api.get('/api/v1/usage')));
  } catch (err) {
    append(usage, errorMessage(err));
  }
}

// Jobs without a tool of their own (the usage report's "pipeline" section).
const PIPELINE_RUNS = { pipeline: 'Pipeline', batch: 'Pipeline batch' };

function usageView(report) {
  const quota = report.storage.quotaBytes;
  return [
    facts([
      ['Jobs', `${report.jobs.total} (${report.jobs.succeeded} succeeded, ${report.jobs.failed} failed, ${report.jobs.canceled} canceled)`],
      ['Data', `${formatBytes(report.bytesIn)} in, ${formatBytes(report.bytesOut)} out`],
      ['Processing time', `${Math.round(report.processingSeconds)} s`],
      ['Library', `${formatBytes(report.storage.usedBytes)} in ${report.storage.fileVersions} file versions${quota ? ` of ${formatBytes(quota)}` : ''}`],
    ]),
    table(
      ['Tool', 'Section', 'Jobs', 'Failed', 'In', 'Out'],
      report.byTool.map((t) => [state.toolById.get(t.toolId)?.title || PIPELINE_RUNS[t.toolId] || t.toolId, t.section, t.total, t.failed, formatBytes(t.bytesIn), formatBytes(t.bytesOut)]),
      { empty: 'No jobs this month.' },
    ),
  ];
}

// -- API keys --

async function keysTab(panel) {
  const list = h('div.keys-list');
  const created = h('div.key-created');
  const name = h('input', { name: 'name', maxlength: 100, placeholder: 'e.g. backup script' });
  const expires = h('input', { name: 'expiresAt', type: 'date' });
  const perms = checkGroup('Permissions (none ticked: all of yours)', state.user.permissions, 'permissions');
  const message = h('div.error-slot');
  const form = h(
    'form.key-form',
    { novalidate: true, 'aria-label': 'Create API key' },
    h('div.row', {}, field('Name', name), field('Expires (optional)', expires)),
    h('details', {}, h('summary', {}, 'Limit its permissions'), perms),
    h('div.actions', {}, h('button.primary', { type: 'submit' }, 'Create key')),
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
        h('h3', {}, `Key “${key.name}” created`),
        h('p', {}, 'Copy it now: Lutra keeps only a hash and will never show it again.'),
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
          ['Name', 'Key', 'Permissions', 'Created', 'Last used', 'Expires', ''],
          apiKeys.map((key) => [
            h('span.key-name', {}, key.name, key.userId !== state.user.id ? h('span.badge', { title: `Owner ${key.userId}` }, 'other user') : null),
            h('code', {}, `${key.prefix}…`),
            key.permissions ? h('span.badges', {}, key.permissions.map((p) => h('span.badge', {}, p))) : 'all of the owner’s',
            formatDate(key.createdAt),
            formatDate(key.lastUsedAt),
            key.expiresAt ? formatDate(key.expiresAt) : 'never',
            h(
              'button.danger.small',
              {
                type: 'button',
                'aria-label': `Delete key ${key.name}`,
                onClick: async () => {
                  if (!(await confirmDialog(`Delete the API key “${key.name}”? Scripts using it stop working at once.`))) return;
                  try {
                    await api.del(`/api/v1/api-keys/${encodeURIComponent(key.id)}`);
                    clear(created);
                    await drawKeys();
                  } catch (err) {
                    showError(message, err);
                  }
                },
              },
              'Delete',
            ),
          ]),
          { empty: 'No API keys yet.' },
        ),
      );
    } catch (err) {
      clear(list, errorMessage(err));
    }
  }

  append(panel,
    h(
      'section.card',
      { 'aria-label': 'New API key' },
      h('h2', {}, 'New API key'),
      h('p.muted', {}, 'Scripts send the key as “Authorization: Bearer si_…”. Changing your password revokes your keys.'),
      form,
      created,
    ),
    h('section', { 'aria-label': 'API keys' }, h('h2', {}, 'Your API keys'), list),
  );
  await drawKeys();
}
