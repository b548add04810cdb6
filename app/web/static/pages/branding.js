// Settings > Branding (settings:write): the app name, accent colour and logo everyone sees.

import { api, request } from '../api.js';
import { append, clear, field, h, onSubmit } from '../dom.js';
import { loadBranding } from '../state.js';
import { t } from '../i18n.js';

export async function brandingTab(panel) {
  const brand = await api.get('/api/v1/branding');
  const name = h('input', { name: 'appName', value: brand.appName, maxlength: 60, required: true });
  // No accentColor yet: the theme's accent (one for light, one for dark) until one is saved.
  const colour = h('input', { name: 'accentColor', type: 'color', value: brand.accentColor || '#175cd3' });
  const message = h('div.error-slot');
  const saved = h('div.status-slot');
  const form = h(
    'form.branding-form',
    { novalidate: true, 'aria-label': t('Name and colour') },
    field(t('App name'), name, t('Shown in the header, the login page and the browser tab.')),
    field(t('Accent colour'), colour),
    message,
    h('div.actions', {}, h('button.primary', { type: 'submit' }, t('Save'))),
    saved,
  );
  onSubmit(form, message, async () => {
    await api.put('/api/v1/settings', { appName: name.value.trim(), accentColor: colour.value });
    await loadBranding();
    clear(saved, h('p.ok', { role: 'status' }, t('Saved.')));
  });

  const preview = h('div.logo-preview');
  const file = h('input', { name: 'file', type: 'file', accept: 'image/png,image/webp' });
  const logoMessage = h('div.error-slot');
  const drawPreview = (url) =>
    clear(preview, url ? h('img.brand-logo-large', { src: url, alt: t('Current logo') }) : h('p.muted', {}, t('No logo yet.')));
  const logoForm = h(
    'form.logo-form',
    { novalidate: true, 'aria-label': t('Logo') },
    field(t('Logo'), file, t('PNG or WebP, at most 512 KB; stored re-encoded, at most 512 px.')),
    logoMessage,
    h(
      'div.actions',
      {},
      h('button.primary', { type: 'submit' }, t('Upload logo')),
      h(
        'button.secondary',
        {
          type: 'button',
          onClick: async () => {
            await api.del('/api/v1/branding/logo').catch(() => null);
            await loadBranding();
            drawPreview(null);
          },
        },
        t('Remove logo'),
      ),
    ),
  );
  onSubmit(logoForm, logoMessage, async () => {
    if (!file.files.length) throw new Error(t('Choose a PNG or WebP file first'));
    const body = new FormData();
    body.append('file', file.files[0]);
    const answer = await request('POST', '/api/v1/branding/logo', { body });
    logoForm.reset();
    drawPreview(answer.logoUrl);
    await loadBranding();
  });
  drawPreview(brand.logoUrl);
  append(
    panel,
    h('section.card', { 'aria-label': t('Name and colour') }, h('h2', {}, t('Name and colour')), form),
    h('section.card', { 'aria-label': t('Logo') }, h('h2', {}, t('Logo')), preview, logoForm),
  );
}
