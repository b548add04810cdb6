// The UI's languages. Every visible text goes through t(): its key is the English text itself (with
// {name} placeholders), so a key missing from a catalogue falls back to English; en.json is loaded
// too, for its plural forms ("1 file", "2 files"). Tool titles and descriptions are keyed "tool.<id>.title" / "tool.<id>.description"; the
// tool modules stay their English source. Catalogues: /static/i18n/<locale>.json (scripts/i18n_build.py).
//
// Which language: the user's saved preference (`locale` in /api/v1/user/preferences; remembered in this
// browser for the login page), else the browser's languages if one of them is supported, else the
// server's DEFAULT_LOCALE (written into <html data-default-locale> by the server).

export const LOCALES = [
  ['en', 'English'],
  ['de', 'Deutsch'],
  ['fr', 'Français'],
  ['es', 'Español'],
  ['zh-CN', '简体中文'],
  ['ja', '日本語'],
];
const CODES = LOCALES.map(([code]) => code);
const STORED_KEY = 'lutra-locale';

let current = 'en';
let messages = {};
// English, the fallback: its plural forms ("1 file", "2 files") are needed in every language.
let english = {};
const cache = new Map();

export function locale() {
  return current;
}

/** A supported locale for a language tag ("de-AT" -> "de", "zh-Hans-CN" -> "zh-CN"), or null. */
export function supported(tag) {
  if (!tag) return null;
  const lower = String(tag).toLowerCase();
  const exact = CODES.find((code) => code.toLowerCase() === lower);
  if (exact) return exact;
  const [language, ...rest] = lower.split('-');
  // Only Simplified Chinese is translated: Taiwan, Hong Kong and Macau read Traditional characters.
  if (language === 'zh') return rest.some((part) => ['hant', 'tw', 'hk', 'mo'].includes(part)) ? null : 'zh-CN';
  return CODES.includes(language) ? language : null;
}

function storedLocale() {
  try {
    return supported(localStorage.getItem(STORED_KEY));
  } catch {
    return null;
  }
}

/** The language to show: saved preference > this browser's languages > the server's default. */
export function chooseLocale(saved) {
  const preferred = supported(saved) || (saved === undefined ? storedLocale() : null);
  if (preferred) return preferred;
  for (const tag of navigator.languages || [navigator.language]) {
    const found = supported(tag);
    if (found) return found;
  }
  return supported(document.documentElement.dataset.defaultLocale) || 'en';
}

/** Remembers the signed-in user's saved choice (or its absence) for the next login page. */
export function rememberLocale(saved) {
  try {
    if (supported(saved)) localStorage.setItem(STORED_KEY, saved);
    else localStorage.removeItem(STORED_KEY);
  } catch {
    // storage turned off: the preference still applies once loaded
  }
}

async function catalogue(code) {
  if (!cache.has(code)) {
    cache.set(
      code,
      fetch(`/static/i18n/${code}.json`, { credentials: 'same-origin' })
        .then((response) => (response.ok ? response.json() : {}))
        .catch(() => ({})),
    );
  }
  return cache.get(code);
}

/** Switches the UI's language (loads its catalogue); answers whether it changed. */
export async function setLocale(code) {
  const next = supported(code) || 'en';
  const [source, loaded] = await Promise.all([catalogue('en'), catalogue(next)]);
  const changed = next !== current;
  current = next;
  english = source;
  messages = loaded;
  document.documentElement.lang = next;
  return changed;
}

function fill(text, params) {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? formatValue(params[name]) : whole));
}

function formatValue(value) {
  return typeof value === 'number' ? formatNumber(value) : String(value);
}

/** The text for `key` in the current language, English when the catalogue lacks it. A value may be
 * an object of plural forms ({one, other}, chosen by Intl.PluralRules from params.count). */
export function t(key, params) {
  let text = messages[key] ?? english[key] ?? key;
  if (text && typeof text === 'object') {
    const form = new Intl.PluralRules(current).select(Number(params?.count ?? 0));
    text = text[form] ?? text.other ?? key;
  }
  return fill(String(text), params);
}

/** Marks a constant as a message key (for the catalogue check); translate it with t() where shown. */
export function tk(key) {
  return key;
}

/** A tool's title or description in the current language; the tool's own English text otherwise. */
export function toolText(tool, field) {
  const own = tool[`${field}En`] ?? tool[field];
  // In English the server's own text (the tool module, the source) wins over a catalogue built earlier.
  return current === 'en' ? own : (messages[`tool.${tool.id}.${field}`] ?? own);
}

/** A setting's label: "setting.<name>" from the catalogue where translated, else its name in words. */
export function settingLabel(name) {
  return messages[`setting.${name}`] ?? humanizeName(name);
}

function humanizeName(key) {
  const words = String(key).replace(/[_-]+/g, ' ').replace(/([a-z0-9])([A-Z])/g, '$1 $2').trim().toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// -- Intl formatting in the chosen language --

export function formatNumber(value, options = {}) {
  return new Intl.NumberFormat(current, options).format(value);
}

export function formatDateTime(date, options = { dateStyle: 'medium', timeStyle: 'short' }) {
  return new Intl.DateTimeFormat(current, options).format(date);
}
