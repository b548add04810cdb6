// Building the page without innerHTML: every text from a user or the server goes in as a text node,
// and URLs are limited to our own paths, blob: and data:image, so nothing received can run.

import { formatDateTime, formatNumber, t, tk } from './i18n.js';

const SAFE_URL = /^(\/(?!\/)|blob:|data:image\/|#|\?)/;
const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'multiple', 'hidden', 'open', 'indeterminate']);

/** h('button.primary', {type: 'submit', onClick}, 'Run') -> <button class="primary" ...>Run</button> */
export function h(tag, props = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.classList.add(...classes);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'class') {
      el.classList.add(...String(value).split(/\s+/).filter(Boolean));
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (PROPS.has(key)) {
      el[key] = value;
    } else if (key === 'href' || key === 'src') {
      if (SAFE_URL.test(String(value))) el.setAttribute(key, value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, ...children);
  return el;
}

export function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, ...children);
}

/** "withoutEnlargement" -> "Without enlargement", "max_size" -> "Max size". */
export function humanize(key) {
  const words = String(key).replace(/[_-]+/g, ' ').replace(/([a-z0-9])([A-Z])/g, '$1 $2').trim().toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** 1536 -> "1.5 KB" ("1,5 KB" in German, "1,5 Ko" in French): the number by Intl, the unit from the catalogue. */
export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined || Number.isNaN(Number(bytes))) return '–';
  const units = [tk('B'), tk('KB'), tk('MB'), tk('GB'), tk('TB')];
  let value = Number(bytes);
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 ? 0 : value < 10 ? 1 : 0;
  const number = formatNumber(value, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return t('{number} {unit}', { number, unit: t(units[unit]) });
}

/** 75 -> "1 min 15 s", 4000 -> "1 h 6 min", 90061 -> "1 d 1 h" (uptimes, media durations), in the UI's language. */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(Number(seconds))) return '–';
  let rest = Math.max(0, Math.round(Number(seconds)));
  const units = [
    [tk('{n} d'), 86400],
    [tk('{n} h'), 3600],
    [tk('{n} min'), 60],
    [tk('{n} s'), 1],
  ];
  const parts = [];
  for (const [name, size] of units) {
    if (rest >= size || (size === 1 && !parts.length)) {
      parts.push(t(name, { n: Math.floor(rest / size) }));
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

export function formatDate(iso) {
  if (!iso) return '–';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : formatDateTime(date);
}

/** A message in the shared error style; `err` is an ApiError, an Error or a string. */
export function errorMessage(err) {
  return h('p.error', { role: 'alert' }, typeof err === 'string' ? err : err?.message || t('Something went wrong'));
}

export function notice(text, kind = 'info') {
  return h(`p.notice.${kind}`, { role: 'status' }, text);
}

/** Shows `err` in `slot` (an element kept for messages), or clears it when err is null. */
export function showError(slot, err) {
  clear(slot, err ? errorMessage(err) : null);
}

/** A modal on a native <dialog>: message, optional body, Cancel and a confirm button; resolves true when
 * confirmed (Escape and Cancel resolve false). */
function ask(message, { body = null, confirmLabel, buttonClass }) {
  return new Promise((resolve) => {
    const dialog = h(
      'dialog.confirm',
      { 'aria-label': message },
      h(
        'form',
        { method: 'dialog' },
        h('p', {}, message),
        body,
        h(
          'div.actions',
          {},
          h('button', { value: 'cancel', type: 'submit', formnovalidate: true }, t('Cancel')),
          h(`button.${buttonClass}`, { value: 'ok', type: 'submit' }, confirmLabel),
        ),
      ),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector('input')?.select();
  });
}

export function confirmDialog(message, { confirmLabel = t('Delete'), danger = true } = {}) {
  return ask(message, { confirmLabel, buttonClass: danger ? 'danger' : 'primary' });
}

/** Asks for one value (a new name, a temporary password); resolves it, or null when cancelled. */
export async function promptDialog(message, { label = t('Value'), type = 'text', value = '', confirmLabel = t('Save') } = {}) {
  const input = h('input', { type, value, name: 'value', required: true, autocomplete: type === 'password' ? 'new-password' : 'off' });
  const ok = await ask(message, { body: field(label, input), confirmLabel, buttonClass: 'primary' });
  return ok ? input.value : null;
}

export function debounce(fn, ms = 200) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A table from rows of cells; cells may be nodes or text. */
export function table(headers, rows, { empty = t('Nothing here yet.'), caption = null } = {}) {
  if (!rows.length) return h('p.muted', {}, empty);
  return h(
    'div.table-wrap',
    {},
    h(
      'table',
      {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, headers.map((text) => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell) => h('td', {}, cell))))),
    ),
  );
}

/** A labelled input row for the hand-written forms (login, users, keys ...). */
export function field(label, input, hint = null) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h(
    'div.field',
    { dataset: { field: input.name || '' } },
    h('label', { for: id }, label),
    input,
    hint ? h('small.hint', {}, hint) : null,
    h('p.field-error', { role: 'alert', hidden: true }),
  );
}

/** Puts each message of an error's `details` ({field: message}) under the input named like it in
 * `form`; returns the messages that matched no input, so the caller can show them elsewhere. */
export function showFieldErrors(form, details) {
  const unmatched = {};
  for (const [path, message] of Object.entries(normaliseDetails(details))) {
    const name = path.split('.')[0];
    const slot = form.querySelector(`.field[data-field="${CSS.escape(name)}"] .field-error`);
    if (slot) {
      slot.textContent = message;
      slot.hidden = false;
      slot.closest('.field').classList.add('invalid');
    } else {
      unmatched[path] = message;
    }
  }
  return unmatched;
}

export function clearFieldErrors(form) {
  for (const slot of form.querySelectorAll('.field-error')) {
    slot.textContent = '';
    slot.hidden = true;
  }
  for (const el of form.querySelectorAll('.field.invalid')) el.classList.remove('invalid');
}

/** Error details come as {field: message}; a list of {field|loc, message|msg} is accepted too. */
export function normaliseDetails(details) {
  if (!details || typeof details !== 'object') return {};
  if (!Array.isArray(details)) {
    const out = {};
    for (const [key, value] of Object.entries(details)) {
      out[key] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    return out;
  }
  const out = {};
  for (const item of details) {
    if (!item || typeof item !== 'object') continue;
    const key = item.field || (Array.isArray(item.loc) ? item.loc.join('.') : item.loc) || 'body';
    out[key] = item.message || item.msg || item.error || 'invalid';
  }
  return out;
}

/** A fieldset of checkboxes, one per value (permissions); read it back with checkedValues(). */
export function checkGroup(legend, values, name, { ticked = [] } = {}) {
  return h(
    'fieldset.field.checks',
    { dataset: { field: name } },
    h('legend', {}, legend),
    values.map((value) => h('label.check', {}, h('input', { type: 'checkbox', name, value, checked: ticked.includes(value) }), ` ${value}`)),
    h('p.field-error', { role: 'alert', hidden: true }),
  );
}

export function checkedValues(container, name) {
  return [...container.querySelectorAll(`input[name="${CSS.escape(name)}"]:checked`)].map((box) => box.value);
}

/** A definition list from [term, value] rows; null rows are left out. */
export function facts(rows) {
  return h('dl.data', {}, rows.filter(Boolean).map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

/**
 * Handles a hand-written form's submit: clears the old messages, disables its submit buttons while
 * `call` runs, then shows an error's details at the inputs they name and anything else in `slot`.
 */
export function onSubmit(form, slot, call) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    showError(slot, null);
    const buttons = [...form.querySelectorAll('button[type="submit"]')];
    buttons.forEach((button) => (button.disabled = true));
    try {
      await call();
    } catch (err) {
      const rest = showFieldErrors(form, err.details);
      if (Object.keys(rest).length || !err.details) showError(slot, err);
    } finally {
      buttons.forEach((button) => (button.disabled = false));
    }
  });
}

/** A button that copies `text` to the clipboard (a key or secret shown once). */
export function copyButton(text) {
  const button = h('button.secondary.small', { type: 'button' }, t('Copy'));
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = t('Copied');
    } catch {
      button.textContent = t('Select and copy it by hand');
    }
  });
  return button;
}
