// A settings form generated from a tool's JSON Schema (the catalog's settingsSchema, made by the
// tool's pydantic model), so a new tool needs no UI code. Enums become selects, booleans checkboxes,
// bounded numbers a slider beside a number box, hex colours a colour picker, lists of plain values a
// one-per-line box, and anything else (objects, lists of objects) a JSON box. Only values that differ
// from the schema's defaults are sent: the tool applies its own defaults, exactly as over the API.

import { clearFieldErrors, h, showFieldErrors } from './dom.js';
import { settingLabel, t } from './i18n.js';

// A colour: its pattern takes six hex digits, or its default is a hex colour.
const HEX_COLOUR = /0-9a-fA-F\]\{6\}/;
const HEX_VALUE = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i;
let formCounter = 0;

/** Thrown by values() when an input can't be read (bad JSON); details point at the field. */
export class FormError extends Error {
  constructor(details) {
    super(Object.values(details)[0]);
    this.details = details;
  }
}

function resolveRef(schema, root) {
  let current = schema;
  for (let depth = 0; current && current.$ref && depth < 10; depth += 1) {
    const name = current.$ref.split('/').pop();
    const target = (root.$defs || root.definitions || {})[name];
    if (!target) break;
    const { $ref, ...rest } = current;
    current = { ...target, ...rest };
  }
  return current || {};
}

/** Unwraps `anyOf: [X, {type: null}]` (an optional value) into X plus nullable: true. */
function describe(prop, root) {
  let base = resolveRef(prop, root);
  let nullable = false;
  const branches = base.anyOf || base.oneOf;
  if (Array.isArray(branches)) {
    const others = branches.filter((b) => b.type !== 'null');
    nullable = others.length < branches.length;
    const resolved = others.map((b) => resolveRef(b, root));
    const { anyOf, oneOf, ...outer } = base;
    if (others.length === 1) {
      base = { ...resolved[0], ...outer };
    } else if (resolved.length > 1 && resolved.every((b) => Array.isArray(b.enum) || 'const' in b)) {
      // Several literal choices (Literal[...] | OtherEnum): one select over all of them.
      base = { ...outer, enum: resolved.flatMap((b) => (Array.isArray(b.enum) ? b.enum : [b.const])) };
    }
  }
  // A one-value Literal is `const` in JSON Schema: still a choice, shown as a select (never a free-text box).
  if ('const' in base && !Array.isArray(base.enum)) base = { ...base, enum: [base.const] };
  if (Array.isArray(base.type)) {
    nullable = nullable || base.type.includes('null');
    const types = base.type.filter((t) => t !== 'null');
    base = { ...base, type: types.length === 1 ? types[0] : undefined };
  }
  return { ...base, nullable };
}

function niceStep(min, max, integer) {
  if (integer) return 1;
  const span = max - min;
  if (!(span > 0)) return 'any';
  return 10 ** Math.floor(Math.log10(span / 100));
}

function kindOf(spec) {
  if (Array.isArray(spec.enum)) return 'enum';
  if (spec.type === 'boolean') return 'boolean';
  if (spec.type === 'integer' || spec.type === 'number') return 'number';
  if (spec.type === 'string') {
    const colour = HEX_COLOUR.test(spec.pattern || '') || HEX_VALUE.test(spec.default ?? '');
    return colour ? 'colour' : 'string';
  }
  if (spec.type === 'array') {
    const items = spec.items || {};
    const plain = !items.$ref && ['string', 'number', 'integer'].includes(items.type) && !items.enum;
    return plain ? 'lines' : 'json';
  }
  return 'json';
}

function sameValue(a, b) {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function hexForPicker(text) {
  const value = String(text || '').replace(/^#/, '');
  if (/^[0-9a-fA-F]{6}$/.test(value)) return `#${value.toLowerCase()}`;
  if (/^[0-9a-fA-F]{3}$/.test(value)) return `#${[...value].map((c) => c + c).join('').toLowerCase()}`;
  if (/^[0-9a-fA-F]{8}$/.test(value)) return `#${value.slice(0, 6).toLowerCase()}`;
  return '#000000';
}

/** One widget: {control, read() -> value (undefined = empty), write(value)}. */
function widget(kind, spec, id, name) {
  const attrs = { id, name };
  if (kind === 'enum') {
    const select = h(
      'select',
      attrs,
      spec.nullable || spec.default === undefined ? h('option', { value: '' }, spec.nullable ? t('(automatic)') : '—') : null,
      spec.enum.map((value, i) => h('option', { value: String(i) }, String(value))),
    );
    return {
      control: select,
      read: () => (select.value === '' ? undefined : spec.enum[Number(select.value)]),
      write: (value) => {
        const index = spec.enum.findIndex((v) => sameValue(v, value));
        select.value = index >= 0 ? String(index) : '';
      },
    };
  }
  if (kind === 'boolean') {
    const box = h('input', { ...attrs, type: 'checkbox' });
    return { control: box, read: () => box.checked, write: (value) => (box.checked = Boolean(value)) };
  }
  if (kind === 'number') {
    const integer = spec.type === 'integer';
    const min = spec.minimum ?? spec.exclusiveMinimum;
    const max = spec.maximum ?? spec.exclusiveMaximum;
    const step = min !== undefined && max !== undefined ? niceStep(min, max, integer) : integer ? 1 : 'any';
    const box = h('input', { ...attrs, type: 'number', inputmode: integer ? 'numeric' : 'decimal', step, min, max });
    if (spec.nullable) box.placeholder = t('automatic');
    // A slider only where "empty" is not a value of its own: it can't show "not set".
    const slider =
      !spec.nullable && min !== undefined && max !== undefined
        ? h('input', { type: 'range', min, max, step, 'aria-label': t('{name} slider', { name: settingLabel(name) }), tabindex: '-1' })
        : null;
    if (slider) {
      slider.addEventListener('input', () => {
        box.value = slider.value;
      });
      box.addEventListener('input', () => {
        if (box.value !== '') slider.value = box.value;
      });
    }
    return {
      control: slider ? h('div.number-pair', {}, slider, box) : box,
      read: () => {
        if (box.value.trim() === '') return undefined;
        const value = Number(box.value);
        return Number.isNaN(value) ? box.value : value;
      },
      write: (value) => {
        box.value = value === null || value === undefined ? '' : String(value);
        if (slider && box.value !== '') slider.value = box.value;
      },
    };
  }
  if (kind === 'colour') {
    const text = h('input', { ...attrs, type: 'text', autocomplete: 'off', spellcheck: 'false' });
    const picker = h('input', { type: 'color', 'aria-label': t('{name} picker', { name: settingLabel(name) }) });
    picker.addEventListener('input', () => {
      text.value = picker.value;
    });
    text.addEventListener('input', () => {
      picker.value = hexForPicker(text.value);
    });
    return {
      control: h('div.colour-pair', {}, picker, text),
      read: () => (text.value.trim() === '' ? undefined : text.value.trim()),
      write: (value) => {
        text.value = value ?? '';
        picker.value = hexForPicker(value);
      },
    };
  }
  if (kind === 'string') {
    const long = (spec.maxLength ?? 0) > 200;
    const type = { email: 'email', uri: 'url', date: 'date', 'date-time': 'datetime-local' }[spec.format] || 'text';
    const input = long
      ? h('textarea', { ...attrs, rows: 3, maxlength: spec.maxLength })
      : h('input', { ...attrs, type, maxlength: spec.maxLength, autocomplete: 'off' });
    return {
      control: input,
      read: () => (input.value === '' ? undefined : input.value),
      write: (value) => (input.value = value ?? ''),
    };
  }
  if (kind === 'lines') {
    const numeric = ['number', 'integer'].includes(spec.items.type);
    const area = h('textarea', { ...attrs, rows: 3, placeholder: t('One per line') });
    return {
      control: area,
      read: () => {
        const lines = area.value.split('\n').map((line) => line.trim()).filter(Boolean);
        if (!lines.length) return spec.nullable ? undefined : [];
        return numeric ? lines.map((line) => (Number.isNaN(Number(line)) ? line : Number(line))) : lines;
      },
      write: (value) => (area.value = Array.isArray(value) ? value.join('\n') : ''),
    };
  }
  const area = h('textarea.code', { ...attrs, rows: 4, spellcheck: 'false', placeholder: 'JSON' });
  return {
    control: area,
    read: () => {
      if (area.value.trim() === '') return undefined;
      try {
        return JSON.parse(area.value);
      } catch {
        throw new FormError({ [name]: t('Not valid JSON') });
      }
    },
    write: (value) => (area.value = value === undefined || value === null ? '' : JSON.stringify(value, null, 2)),
  };
}

/** A JSON example for an object field's placeholder: {"lat": 0, "lon": 0}. */
function objectHint(spec, root) {
  const target = spec.type === 'array' ? resolveRef(spec.items || {}, root) : spec;
  const props = target.properties;
  if (!props) return null;
  const sample = Object.fromEntries(Object.entries(props).map(([k, p]) => [k, p.default ?? (p.type === 'string' ? '' : 0)]));
  return JSON.stringify(spec.type === 'array' ? [sample] : sample);
}

/**
 * Builds the form. Returns {element, values(), setValues(obj), reset(), showErrors(details), clearErrors()}.
 * values() throws FormError when an input can't be parsed; showErrors returns unmatched messages.
 */
export function schemaForm(schema, { initial = {}, emptyText = t('This tool has no settings.') } = {}) {
  const root = schema || {};
  const props = root.properties || {};
  const required = new Set(root.required || []);
  const formId = `s${(formCounter += 1)}`;
  const fields = [];
  const element = h('div.schema-form');

  for (const [name, prop] of Object.entries(props)) {
    const spec = describe(prop, root);
    const kind = kindOf(spec);
    const id = `${formId}-${name}`;
    const w = widget(kind, spec, id, name);
    const hintText = [spec.description || '', kind === 'json' && objectHint(spec, root) ? t('e.g. {example}', { example: objectHint(spec, root) }) : '']
      .filter(Boolean)
      .join(' — ');
    const label = h('label', { for: id }, settingLabel(name), required.has(name) ? h('span.required', { title: t('required') }, ' *') : null);
    const wrap = h(
      `div.field.kind-${kind}`,
      { dataset: { field: name } },
      kind === 'boolean' ? h('div.check', {}, w.control, label) : [label, w.control],
      hintText ? h('small.hint', {}, hintText) : null,
      h('p.field-error', { role: 'alert', hidden: true }),
    );
    fields.push({ name, spec, kind, widget: w, default: spec.default, required: required.has(name) });
    element.append(wrap);
  }
  if (!fields.length) element.append(h('p.muted', {}, emptyText));

  function reset() {
    for (const f of fields) f.widget.write(f.default);
  }

  function setValues(values) {
    for (const f of fields) if (values && hasKey(values, f.name)) f.widget.write(values[f.name]);
  }

  /** The settings object to send: changed and required values only. */
  function values() {
    const out = {};
    const problems = {};
    for (const f of fields) {
      let value;
      try {
        value = f.widget.read();
      } catch (err) {
        if (err instanceof FormError) Object.assign(problems, err.details);
        continue;
      }
      if (value === undefined) value = f.spec.nullable ? null : undefined;
      if (value === undefined) continue;
      if (f.required || !sameValue(value, f.default)) out[f.name] = value;
    }
    if (Object.keys(problems).length) throw new FormError(problems);
    return out;
  }

  reset();
  setValues(initial);
  return {
    element,
    values,
    setValues,
    reset,
    fields: fields.map((f) => f.name),
    showErrors: (details) => showFieldErrors(element, details),
    clearErrors: () => clearFieldErrors(element),
  };
}

function hasKey(values, name) {
  return Object.prototype.hasOwnProperty.call(values, name);
}
