// What every page needs to know: who is signed in (with their permissions, from /api/auth/session)
// and the tool catalog (/api/v1/tools), loaded once and refreshed when an admin changes it.

import { api } from './api.js';

export const SECTIONS = [
  ['image', 'Image'],
  ['video', 'Video'],
  ['audio', 'Audio'],
  ['pdf', 'PDF'],
  ['files', 'Files'],
];

export const state = {
  authEnabled: true,
  user: null,
  tools: null,
  toolById: new Map(),
  can(permission) {
    return Boolean(this.user && this.user.permissions && this.user.permissions.includes(permission));
  },
};

export async function loadSession() {
  const config = await api.get('/api/v1/config/auth').catch(() => ({ authEnabled: true }));
  state.authEnabled = config.authEnabled !== false;
  try {
    state.user = (await api.get('/api/auth/session')).user;
    // Without login (AUTH_ENABLED=false) nobody is asked for a password, a temporary one included.
    if (!state.authEnabled) state.user.mustChangePassword = false;
  } catch (err) {
    if (err.status !== 401) throw err;
    state.user = null;
  }
  return state.user;
}

export async function loadCatalog({ force = false } = {}) {
  if (state.tools && !force) return state.tools;
  const data = await api.get('/api/v1/tools');
  state.tools = data.tools;
  state.toolById = new Map(data.tools.map((tool) => [tool.id, tool]));
  return state.tools;
}

export function forgetCatalog() {
  state.tools = null;
  state.toolById = new Map();
}

export function sectionTitle(section) {
  return (SECTIONS.find(([id]) => id === section) || [section, section])[1];
}

/** Whether a tool takes a file of this detected kind (a tool without a list takes anything). */
export function fits(tool, kind) {
  const accepts = tool.inputs?.accepts || [];
  return !accepts.length || (kind ? accepts.includes(kind) : false);
}
