// The signed-in user's interface preferences (favourite and recent tools, theme, language), kept on the server
// (/api/v1/user/preferences) so they follow the user from browser to browser.

import { api } from './api.js';
import { rememberLocale } from './i18n.js';

const RECENT_KEPT = 8;
const THEME_KEY = 'lutra-theme'; // only the theme, so the next page load paints in it at once

export const prefs = { favourites: [], recent: [], theme: 'system', locale: null };

export function applyTheme(theme = prefs.theme) {
  const root = document.documentElement;
  if (theme === 'light' || theme === 'dark') root.dataset.theme = theme;
  else delete root.dataset.theme;
  try {
    localStorage.setItem(THEME_KEY, theme || 'system');
  } catch {
    // storage turned off: the theme still applies once the preferences load
  }
}

export function applyStoredTheme() {
  try {
    applyTheme(localStorage.getItem(THEME_KEY) || 'system');
  } catch {
    applyTheme('system');
  }
}

let loadedFor = null;

/** Loads the user's preferences once per signed-in user (after a login, for the new user). */
export async function ensurePreferences(user) {
  if (!user || user.mustChangePassword || loadedFor === user.id) return prefs;
  loadedFor = user.id;
  try {
    Object.assign(prefs, await api.get('/api/v1/user/preferences'));
    rememberLocale(prefs.locale);
  } catch {
    // preferences are a convenience: the UI works with the defaults
  }
  applyTheme();
  return prefs;
}

export function forgetPreferences() {
  loadedFor = null;
  Object.assign(prefs, { favourites: [], recent: [], theme: 'system', locale: null });
}

async function save(changes) {
  Object.assign(prefs, await api.put('/api/v1/user/preferences', changes));
  return prefs;
}

export function isFavourite(toolId) {
  return prefs.favourites.includes(toolId);
}

export function toggleFavourite(toolId) {
  const favourites = isFavourite(toolId) ? prefs.favourites.filter((id) => id !== toolId) : [...prefs.favourites, toolId];
  return save({ favourites });
}

/** Called when a tool's page opens: it moves to the front of the recently used list. */
export function rememberTool(toolId) {
  if (prefs.recent[0] === toolId) return Promise.resolve(prefs);
  const recent = [toolId, ...prefs.recent.filter((id) => id !== toolId)].slice(0, RECENT_KEPT);
  return save({ recent }).catch(() => prefs);
}

export async function setTheme(theme) {
  await save({ theme });
  applyTheme();
}

/** Saves the interface language (null: follow the browser); the caller redraws the page in it. */
export async function setLocalePreference(locale) {
  await save({ locale });
  rememberLocale(prefs.locale);
}
