// What every page needs to know: who is signed in (with their permissions, from /api/auth/session)
// and the tool catalog (/api/v1/tools), loaded once and refreshed when an admin changes it.

import { api } from './api.js';
import { t, tk, toolText } from './i18n.js';

export const SECTIONS = [
  ['image', tk('Image')],
  ['video', tk('Video')],
  ['audio', tk('Audio')],
  ['pdf', tk('PDF')],
  ['files', tk('Files')],
];

// The catalog's categories in the seed's order (app/engine/categories.py); each tool names one. They stay
// English (data-category, the server's value); t(category) is the name shown.
export const CATEGORIES = [
  tk('Essentials'),
  tk('Optimization'),
  tk('Adjustments'),
  tk('AI Tools'),
  tk('Watermark & Overlay'),
  tk('Utilities'),
  tk('Layout & Composition'),
  tk('Format & Conversion'),
  tk('Video'),
  tk('Audio'),
  tk('Document'),
  tk('File'),
];

/** "Watermark & Overlay" -> "watermark-overlay" (as the server's category_slug). */
export function categorySlug(category) {
  return String(category).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

export const state = {
  authEnabled: true,
  // From /api/v1/config/auth: { enabled, label } of single sign-on, and whether passwords may log in.
  oidc: { enabled: false, label: '' },
  passwordLogin: true,
  appName: document.title || 'Lutra',
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
  state.oidc = config.oidc || { enabled: false, label: '' };
  state.passwordLogin = config.passwordLoginEnabled !== false;
  try {
    const session = await api.get('/api/auth/session');
    state.user = session.user;
    state.user.mfaEnrolmentRequired = Boolean(session.mfaEnrolmentRequired);
    // Without login (AUTH_ENABLED=false) nobody is asked for a password, a temporary one included.
    if (!state.authEnabled) state.user.mustChangePassword = false;
  } catch (err) {
    if (err.status !== 401) throw err;
    state.user = null;
  }
  return state.user;
}

/** The app name, accent colour and logo (public /api/v1/branding), applied to the page. */
export async function loadBranding() {
  const brand = await api.get('/api/v1/branding').catch(() => null);
  if (!brand) return;
  state.appName = brand.appName;
  // Through the CSSOM: allowed by the CSP (style-src 'self'), unlike an inline style attribute.
  // Only a colour an administrator chose; otherwise the theme's light and dark accents stay.
  if (/^#[0-9a-f]{6}$/i.test(brand.accentColor || '')) document.documentElement.style.setProperty('--accent', brand.accentColor);
  const link = document.querySelector('.topbar .brand');
  if (link) {
    link.replaceChildren();
    if (brand.logoUrl) {
      const img = document.createElement('img');
      img.className = 'brand-logo';
      img.alt = '';
      img.src = brand.logoUrl.startsWith('/') ? brand.logoUrl : '';
      link.append(img);
    }
    link.append(brand.appName);
  }
}

export async function loadCatalog({ force = false } = {}) {
  if (state.tools && !force) return state.tools;
  const data = await api.get('/api/v1/tools');
  // Titles and descriptions in the UI's language (the English ones kept for search and fallback).
  for (const tool of data.tools) {
    tool.titleEn = tool.title;
    tool.descriptionEn = tool.description;
    tool.title = toolText(tool, 'title');
    tool.description = toolText(tool, 'description');
  }
  state.tools = data.tools;
  state.toolById = new Map(data.tools.map((tool) => [tool.id, tool]));
  return state.tools;
}

export function forgetCatalog() {
  state.tools = null;
  state.toolById = new Map();
}

export function sectionTitle(section) {
  return t((SECTIONS.find(([id]) => id === section) || [section, section])[1]);
}

/** Whether a tool takes a file of this detected kind (a tool without a list takes anything). */
export function fits(tool, kind) {
  const accepts = tool.inputs?.accepts || [];
  return !accepts.length || (kind ? accepts.includes(kind) : false);
}
