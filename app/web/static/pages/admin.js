// The administration tabs of Settings: users, teams, roles and permissions, the audit log, which
// tools are available, and system health (with the workers that run jobs). Each is shown only to
// roles holding its permission.

import { api } from '../api.js';
import {
  append, checkGroup, checkedValues, clear, confirmDialog, facts, field, formatBytes, formatDate, formatDuration, h, humanize, onSubmit,
  promptDialog, showError, table,
} from '../dom.js';
import { forgetCatalog, loadCatalog, sectionTitle, state } from '../state.js';
import { t } from '../i18n.js';

/** Runs an API call from a button; its error goes to `slot`; returns whether it worked. */
async function attempt(slot, call) {
  showError(slot, null);
  try {
    await call();
    return true;
  } catch (err) {
    showError(slot, err);
    return false;
  }
}

function options(values, current) {
  return values.map(([value, label]) => h('option', { value, selected: value === current }, label));
}

// -- users --

export async function usersTab(panel) {
  const [roles, teams] = await Promise.all([
    state.can('audit:read') ? api.get('/api/v1/roles').then((r) => r.roles.map((role) => [role.name, role.name])) : null,
    state.can('teams:manage') ? api.get('/api/v1/teams').then((r) => r.teams.map((t) => [t.id, t.name])) : null,
  ]);
  const message = h('div.error-slot');
  const list = h('div.users-list');
  const username = h('input', { name: 'username', autocomplete: 'off', autocapitalize: t('none') });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password' });
  const role = roles ? h('select', { name: 'role' }, options(roles, 'user')) : h('input', { name: 'role', value: 'user' });
  const team = teams ? h('select', { name: 'team' }, options(teams, null)) : null;
  const createMessage = h('div.error-slot');
  const form = h(
    'form.user-form',
    { novalidate: true, 'aria-label': t('Create user') },
    h('div.row', {}, field(t('Username'), username), field(t('Temporary password'), password, t('They choose their own at first login.')), field(t('Role'), role), team ? field(t('Team'), team) : null),
    h('div.actions', {}, h('button.primary', { type: 'submit' }, t('Create user'))),
    createMessage,
  );
  onSubmit(form, createMessage, async () => {
    const body = { username: username.value.trim(), password: password.value, role: role.value || 'user' };
    if (team) body.team = team.value;
    try {
      await api.post('/api/auth/register', body);
    } catch (err) {
      // The password policy answers with rule details, not a field name.
      if (err.details?.rule) err.details = { password: err.message };
      throw err;
    }
    form.reset();
    clear(createMessage, h('p.ok', { role: 'status' }, t('User {name} created.', { name: body.username })));
    await draw();
  });

  async function update(user, body) {
    await attempt(message, () => api.put(`/api/auth/users/${encodeURIComponent(user.id)}`, body));
    await draw(); // also puts a refused change's select back
  }

  async function draw() {
    const { users } = await api.get('/api/auth/users');
    clear(
      list,
      table(
        [t('User'), t('Role'), t('Team'), t('Created'), ''],
        users.map((user) => [
          h(
            'span.username',
            {},
            user.username,
            user.mustChangePassword ? h('span.badge', { title: t('Has a temporary password') }, t('must change password')) : null,
            user.mfaEnabled ? h('span.badge', { title: t('Signs in with a second factor') }, '2FA') : null,
            user.authProvider === 'oidc' ? h('span.badge', { title: t('Created by single sign-on') }, 'SSO') : null,
          ),
          roles
            ? h('select', { 'aria-label': t('Role of {name}', { name: user.username }), onChange: (e) => update(user, { role: e.target.value }) }, options(roles, user.role))
            : user.role,
          teams
            ? h(
                'select',
                { 'aria-label': t('Team of {name}', { name: user.username }), onChange: (e) => update(user, { team: e.target.value }) },
                options(teams, teams.find(([, label]) => label === user.team)?.[0]),
              )
            : user.team,
          formatDate(user.createdAt),
          h(
            'div.row-actions',
            {},
            h(
              'button.secondary.small',
              {
                type: 'button',
                onClick: async () => {
                  const value = await promptDialog(t('New temporary password for {name}', { name: user.username }), { label: t('Temporary password'), type: 'password', confirmLabel: t('Reset') });
                  if (value === null) return;
                  const ok = await attempt(message, () => api.post(`/api/auth/users/${encodeURIComponent(user.id)}/reset-password`, { newPassword: value }));
                  if (ok) {
                    clear(message, h('p.ok', { role: 'status' }, t('{name} must choose a new password at their next login.', { name: user.username })));
                    await draw();
                  }
                },
              },
              t('Reset password'),
            ),
            user.mfaEnabled
              ? h(
                  'button.secondary.small',
                  {
                    type: 'button',
                    onClick: async () => {
                      const sure = await confirmDialog(t('Turn off two-factor login for {name}? Their sessions end; they can set it up again.', { name: user.username }), { confirmLabel: t('Reset 2FA') });
                      if (!sure) return;
                      if (await attempt(message, () => api.post(`/api/auth/users/${encodeURIComponent(user.id)}/mfa/reset`))) {
                        clear(message, h('p.ok', { role: 'status' }, t('Two-factor login of {name} is off.', { name: user.username })));
                        await draw();
                      }
                    },
                  },
                  t('Reset 2FA'),
                )
              : null,
            user.id === state.user.id
              ? null
              : h(
                  'button.danger.small',
                  {
                    type: 'button',
                    onClick: async () => {
                      if (!(await confirmDialog(t('Delete the user {name}? Their sessions and API keys end.', { name: user.username })))) return;
                      if (await attempt(message, () => api.del(`/api/auth/users/${encodeURIComponent(user.id)}`))) await draw();
                    },
                  },
                  t('Delete'),
                ),
          ),
        ]),
      ),
    );
  }

  append(panel,
    h('section.card', { 'aria-label': t('New user') }, h('h2', {}, t('New user')), form),
    h('section', { 'aria-label': t('Users') }, h('h2', {}, t('Users')), message, list),
  );
  await draw();
}

// -- teams --

export async function teamsTab(panel) {
  const message = h('div.error-slot');
  const list = h('div');
  const name = h('input', { name: 'name', maxlength: 50 });
  const form = h('form.inline-form', { novalidate: true, 'aria-label': t('Create team') }, field(t('New team'), name), h('button.primary', { type: 'submit' }, t('Create team')));
  const formMessage = h('div.error-slot');
  onSubmit(form, formMessage, async () => {
    await api.post('/api/v1/teams', { name: name.value });
    form.reset();
    await draw();
  });

  async function draw() {
    const { teams } = await api.get('/api/v1/teams');
    clear(
      list,
      table(
        [t('Team'), t('Members'), t('Created'), ''],
        teams.map((team) => [
          h('span', {}, team.name, team.isDefault ? h('span.badge', {}, t('default')) : null),
          String(team.memberCount),
          formatDate(team.createdAt),
          h(
            'div.row-actions',
            {},
            h(
              'button.secondary.small',
              {
                type: 'button',
                onClick: async () => {
                  const value = await promptDialog(t('Rename the team {name}', { name: team.name }), { label: t('Name'), value: team.name, confirmLabel: t('Rename') });
                  if (value !== null && (await attempt(message, () => api.put(`/api/v1/teams/${encodeURIComponent(team.id)}`, { name: value })))) await draw();
                },
              },
              t('Rename'),
            ),
            team.isDefault
              ? null
              : h(
                  'button.danger.small',
                  {
                    type: 'button',
                    onClick: async () => {
                      if (!(await confirmDialog(t('Delete the team {name}?', { name: team.name })))) return;
                      if (await attempt(message, () => api.del(`/api/v1/teams/${encodeURIComponent(team.id)}`))) await draw();
                    },
                  },
                  t('Delete'),
                ),
          ),
        ]),
      ),
    );
  }

  append(panel, h('section.card', { 'aria-label': t('New team') }, form, formMessage), h('section', { 'aria-label': t('Teams') }, h('h2', {}, t('Teams')), message, list));
  await draw();
}

// -- roles --

export async function rolesTab(panel) {
  const editable = state.can('users:manage');
  const message = h('div.error-slot');
  const list = h('div.roles-list');
  let permissions = [];

  function roleForm(role, onDone) {
    const name = h('input', { name: 'name', value: role?.name || '', maxlength: 30, placeholder: 'lowercase-name' });
    const description = h('input', { name: 'description', value: role?.description || '', maxlength: 500 });
    const checks = checkGroup(t('Permissions'), permissions, 'permissions', { ticked: role?.permissions || [] });
    const slot = h('div.error-slot');
    const form = h(
      'form.role-form',
      { novalidate: true, 'aria-label': role ? t('Edit role {name}', { name: role.name }) : t('Create role') },
      h('div.row', {}, field(t('Name'), name), field(t('Description'), description)),
      checks,
      h('div.actions', {}, h('button.primary', { type: 'submit' }, role ? t('Save role') : t('Create role'))),
      slot,
    );
    onSubmit(form, slot, async () => {
      const body = { name: name.value.trim(), description: description.value, permissions: checkedValues(checks, 'permissions') };
      if (role) await api.put(`/api/v1/roles/${encodeURIComponent(role.id)}`, body);
      else await api.post('/api/v1/roles', body);
      await onDone();
    });
    return form;
  }

  async function draw() {
    const data = await api.get('/api/v1/roles');
    permissions = data.permissions;
    clear(
      list,
      data.roles.map((role) => {
        const card = h(
          'article.card.role',
          { dataset: { role: role.name } },
          h('div.card-head', {}, h('h3', {}, role.name, role.isBuiltin ? h('span.badge', {}, t('built-in')) : null), h('span.muted', {}, t('{count} users', { count: role.userCount }))),
          role.description ? h('p', {}, role.description) : null,
          h('p.badges', {}, role.permissions.map((p) => h('span.badge', {}, p))),
        );
        if (editable && !role.isBuiltin) {
          const editSlot = h('div');
          append(card,
            h(
              'div.actions',
              {},
              h('button.secondary.small', { type: 'button', onClick: () => clear(editSlot, roleForm(role, draw)) }, t('Edit')),
              h(
                'button.danger.small',
                {
                  type: 'button',
                  onClick: async () => {
                    if (!(await confirmDialog(t('Delete the role {name}? Its users fall back to the user role.', { name: role.name })))) return;
                    if (await attempt(message, () => api.del(`/api/v1/roles/${encodeURIComponent(role.id)}`))) await draw();
                  },
                },
                t('Delete'),
              ),
            ),
            editSlot,
          );
        }
        return card;
      }),
    );
  }

  await draw();
  append(panel,
    editable ? h('section.card', { 'aria-label': t('New role') }, h('h2', {}, t('New role')), roleForm(null, draw)) : null,
    h('section', { 'aria-label': t('Roles') }, h('h2', {}, t('Roles and permissions')), message, list),
  );
}

// -- audit log --

const AUDIT_ACTIONS = [
  'LOGIN_SUCCESS', 'LOGIN_FAILED', 'LOGIN_THROTTLED', 'LOGOUT', 'PASSWORD_CHANGED', 'PASSWORD_RESET', 'USER_CREATED',
  'USER_UPDATED', 'USER_DELETED', 'API_KEY_CREATED', 'API_KEY_DELETED', 'TEAM_CREATED', 'TEAM_UPDATED', 'TEAM_DELETED',
  'ROLE_CREATED', 'ROLE_UPDATED', 'ROLE_DELETED', 'SETTINGS_UPDATED',
];

function isoFromLocal(value) {
  return value ? new Date(value).toISOString() : null;
}

export async function auditTab(panel) {
  let page = 1;
  const action = h('input', { name: 'action', list: 'audit-actions', placeholder: t('any'), autocapitalize: 'characters' });
  const from = h('input', { name: 'from', type: 'datetime-local' });
  const to = h('input', { name: 'to', type: 'datetime-local' });
  const slot = h('div.error-slot');
  const list = h('div.audit-list');
  const pager = h('div.pager');
  const form = h(
    'form.filters',
    { novalidate: true, 'aria-label': t('Filter the audit log') },
    h('datalist', { id: 'audit-actions' }, AUDIT_ACTIONS.map((a) => h('option', { value: a }))),
    field(t('Action'), action),
    field(t('From'), from),
    field(t('To'), to),
    h('div.actions', {}, h('button.primary', { type: 'submit' }, t('Filter'))),
  );
  onSubmit(form, slot, async () => {
    page = 1;
    await draw();
  });

  async function draw() {
    const query = { page, limit: 50, action: action.value.trim().toUpperCase(), from: isoFromLocal(from.value), to: isoFromLocal(to.value) };
    const data = await api.get('/api/v1/audit-log', query);
    clear(
      list,
      table(
        [t('When'), t('Action'), t('By'), t('Target'), 'IP', t('Details')],
        data.entries.map((e) => [
          formatDate(e.createdAt),
          h('code', {}, e.action),
          e.actorUsername || '–',
          e.targetType ? `${e.targetType}${e.targetId ? ` ${e.targetId.slice(0, 8)}` : ''}` : '–',
          e.ipAddress || '–',
          e.details ? h('code.details', {}, JSON.stringify(e.details)) : '',
        ]),
        { empty: t('No entries match.') },
      ),
    );
    const pages = Math.max(1, Math.ceil(data.total / data.limit));
    clear(
      pager,
      h('button.secondary', { type: 'button', disabled: page <= 1, onClick: () => go(-1) }, t('← Newer')),
      h('span.muted', {}, ` ${t('Page {page} of {pages} ({count} entries)', { page, pages, count: data.total })} `),
      h('button.secondary', { type: 'button', disabled: page >= pages, onClick: () => go(1) }, t('Older →')),
    );
  }

  async function go(by) {
    page += by;
    await attempt(slot, draw);
  }

  append(panel, h('section.card', { 'aria-label': t('Filters') }, form, slot), list, pager);
  await draw();
}

// -- tools and general settings --

// Titles of tools seen in the catalog: a disabled tool leaves the catalog, but keeps its name here.
const knownTools = new Map();

export async function toolsTab(panel) {
  const [{ settings }] = await Promise.all([api.get('/api/v1/settings'), loadCatalog({ force: true })]);
  state.tools.forEach((t) => knownTools.set(t.id, t));
  let disabled;
  try {
    disabled = new Set(JSON.parse(settings.disabledTools || '[]'));
  } catch {
    disabled = new Set();
  }

  // General settings
  const experimental = h('input', { type: 'checkbox', name: 'enableExperimentalTools', checked: settings.enableExperimentalTools === 'true' });
  const attempts = h('input', { type: 'number', name: 'loginAttemptLimit', min: 1, max: 1000, value: settings.loginAttemptLimit || '5' });
  const quota = h('input', { type: 'number', name: 'storageQuotaMb', min: 0, value: settings.storageQuotaMb || '0' });
  const generalSlot = h('div.error-slot');
  const general = h(
    'form.general-form',
    { novalidate: true, 'aria-label': t('General settings') },
    h('div.field', { dataset: { field: 'enableExperimentalTools' } }, h('label.check', {}, experimental, ' Show experimental tools'), h('p.field-error', { hidden: true })),
    h('div.row', {}, field(t('Failed logins per minute before a pause'), attempts), field(t('Library quota per user, MB (0 = unlimited)'), quota)),
    h('div.actions', {}, h('button.primary', { type: 'submit' }, t('Save settings'))),
    generalSlot,
  );
  onSubmit(general, generalSlot, async () => {
    await api.put('/api/v1/settings', {
      enableExperimentalTools: experimental.checked ? 'true' : 'false',
      loginAttemptLimit: attempts.value,
      storageQuotaMb: quota.value,
    });
    forgetCatalog();
    clear(generalSlot, h('p.ok', { role: 'status' }, t('Saved.')));
  });

  // Tool availability
  const filter = h('input', { type: 'search', placeholder: t('Filter tools'), 'aria-label': t('Filter tools') });
  const list = h('ul.tool-toggles');
  const toolsSlot = h('div.error-slot');
  const save = h('button.primary', { type: 'submit' }, t('Save tool availability'));
  const toolsForm = h('form.tools-form', { novalidate: true, 'aria-label': t('Tool availability') }, filter, list, h('div.run-bar', {}, save, toolsSlot));

  function draw() {
    const ids = [...new Set([...knownTools.keys(), ...disabled])];
    const words = filter.value.trim().toLowerCase();
    const rows = ids
      .map((id) => ({ id, tool: knownTools.get(id) }))
      .filter(({ id, tool }) => !words || `${id} ${tool?.title || ''} ${tool?.section || ''}`.toLowerCase().includes(words))
      .sort((a, b) => (a.tool?.section || '').localeCompare(b.tool?.section || '') || a.id.localeCompare(b.id));
    clear(
      list,
      rows.map(({ id, tool }) =>
        h(
          'li',
          { dataset: { tool: id } },
          h(
            'label.check',
            {},
            h('input', {
              type: 'checkbox',
              checked: !disabled.has(id),
              'aria-label': t('Enable {tool}', { tool: tool?.title || id }),
              onChange: (e) => (e.target.checked ? disabled.delete(id) : disabled.add(id)),
            }),
            ` ${tool?.title || id}`,
          ),
          h('span.muted', {}, ` ${tool ? sectionTitle(tool.section) : ''} · ${id}`),
        ),
      ),
    );
  }
  filter.addEventListener('input', draw);
  onSubmit(toolsForm, toolsSlot, async () => {
    await api.put('/api/v1/settings', { disabledTools: [...disabled].sort() });
    forgetCatalog();
    clear(toolsSlot, h('p.ok', { role: 'status' }, t('Saved: {count} tools turned off.', { count: disabled.size })));
  });
  draw();

  append(panel,
    h('section.card', { 'aria-label': t('General') }, h('h2', {}, t('General')), general),
    h(
      'section.card',
      { 'aria-label': t('Tools') },
      h('h2', {}, t('Tools')),
      h('p.muted', {}, t('Turned-off tools vanish from the catalog, the pipelines and the API for everyone.')),
      toolsForm,
    ),
  );
}

// -- system health --

function valueCell(value) {
  if (value === null || value === undefined) return h('span.muted', {}, t('not found'));
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return value.length ? value.map((item) => (typeof item === 'object' ? JSON.stringify(item) : String(item))).join(', ') : h('span.muted', {}, t('none'));
  // Objects (AI bundles: {name: installed}) read as a list of their entries, not as JSON.
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    if (!entries.length) return h('span.muted', {}, t('none'));
    return h('ul.plain', {}, entries.map(([key, item]) => h('li', {}, `${humanize(key)}: `, valueCell(item))));
  }
  return String(value);
}

/** How long ago an ISO time was, in words ("4 s ago"); its exact time goes in the title. */
function ago(iso) {
  if (!iso) return h('span.muted', {}, t('never'));
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  return h('time', { datetime: iso, title: formatDate(iso) }, t('{duration} ago', { duration: formatDuration(Math.max(0, seconds)) }));
}

const WORKERS_REFRESH_MS = 5000;

/** The workers that run jobs (every `lutra worker` in the scaled mode, the server's own pool otherwise). */
function workersCard() {
  const slot = h('div.error-slot');
  const body = h('div.workers-list');

  async function draw() {
    showError(slot, null);
    let report;
    try {
      report = await api.get('/api/v1/admin/workers');
    } catch (err) {
      clear(body);
      showError(slot, err);
      return;
    }
    const rows = report.workers.map((worker) => [
      h('code', {}, worker.name),
      worker.host,
      String(worker.pid ?? '–'),
      worker.queues.join(', '),
      String(worker.concurrency),
      worker.runningJobs.length ? h('ul.plain', {}, worker.runningJobs.map((id) => h('li', {}, h('code', {}, id)))) : h('span.muted', {}, t('idle')),
      ago(worker.lastHeartbeat),
    ]);
    const depths = Object.entries(report.queues || {}).map(([name, count]) => `${name}: ${count}`).join(', ');
    clear(
      body,
      h('p.muted.workers-mode', {}, report.mode === 'scaled'
        ? t('Scaled mode: {count} workers online.', { count: report.workers.length })
        : t('Embedded mode: this server runs every job in its own process pool.')),
      table([t('Worker'), t('Host'), t('PID'), t('Queues'), t('Concurrency'), t('Running jobs'), t('Last heartbeat')], rows, {
        empty: t('No worker is online: long jobs wait in the queue and fast tools answer 503 until one starts.'),
      }),
      h('p.workers-queues', {}, t('Jobs waiting:'), ' ', depths || t('none')),
    );
  }

  const refresh = h('button.secondary.small', { type: 'button', onClick: draw }, t('Refresh'));
  const card = h('section.card', { 'aria-label': t('Workers') }, h('h2', {}, t('Workers'), ' ', refresh), slot, body);
  draw();
  // Workers refresh their entry every few seconds: follow them while the panel is on screen.
  const timer = setInterval(() => (card.isConnected ? draw() : clearInterval(timer)), WORKERS_REFRESH_MS);
  return card;
}

export async function systemTab(panel) {
  const report = await api.get('/api/v1/admin/health');
  const storage = report.storage || {};
  const queue = report.queue || {};
  const disk = storage.total ? h('meter', { min: 0, max: storage.total, value: storage.total - storage.available, 'aria-label': t('Disk used') }) : null;
  append(
    panel,
    h(
      'section.card',
      { 'aria-label': t('Status') },
      h('h2', {}, t('Status'), ' ', h(`span.badge.status-${report.status === 'healthy' ? 'ok' : 'bad'}`, {}, report.status)),
      facts([
        [t('Version'), report.version],
        [t('Uptime'), report.uptimeSeconds === undefined ? report.uptime : formatDuration(report.uptimeSeconds)],
        [t('Database'), `${report.database} (${report.databaseDialect})`],
        [t('Storage'), [disk, ` ${t('{free} free of {total}', { free: formatBytes(storage.available), total: formatBytes(storage.total) })} (${storage.mode}, ${storage.dataDir})`]],
        [t('Jobs'), t('{running} running, {waiting} waiting, {limit} at once', { running: queue.active ?? 0, waiting: queue.pending ?? 0, limit: queue.concurrency ?? '?' })],
      ]),
    ),
    workersCard(),
    h('section.card', { 'aria-label': t('Engines') }, h('h2', {}, t('Engines')), table([t('Engine'), t('Version')], Object.entries(report.engines || {}).map(([k, v]) => [k, valueCell(v)]))),
    aiCard(report.ai || {}),
  );
}

/** The AI runtime as facts, and its bundles ({name: installed}) as a table with one row per bundle. */
function aiCard(ai) {
  const { bundles, ...runtime } = ai;
  const rows = Object.entries(bundles || {}).map(([name, installed]) => [
    h('span.bundle-name', {}, humanize(name)),
    h(`span.badge.status-${installed ? 'ok' : 'bad'}`, {}, installed ? t('installed') : t('not installed')),
  ]);
  return h(
    'section.card',
    { 'aria-label': t('AI') },
    h('h2', {}, t('AI')),
    facts(Object.entries(runtime).map(([key, value]) => [humanize(key), valueCell(value)])),
    bundles ? table([t('Bundle'), t('Installed')], rows, { empty: t('No AI bundles known.'), caption: t('Bundles') }) : null,
  );
}
