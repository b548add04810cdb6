// Two-factor login (TOTP): the login's second step, enrolment with the QR code and recovery codes
// (shown once, with a download), and the profile card to renew codes or turn it off.

import { api } from '../api.js';
import { append, clear, field, h, onSubmit } from '../dom.js';
import { loadSession, state } from '../state.js';
import { t } from '../i18n.js';

function codeInput(name = 'code', label = 'one-time-code') {
  return h('input', { name, inputmode: 'numeric', autocomplete: label, autocapitalize: 'none', spellcheck: 'false', maxlength: 64, required: true });
}

/** The login's second step: a code from the app or a recovery code for the password step's mfaToken. */
export function secondStep(mfaToken, onDone) {
  const code = codeInput();
  const message = h('div.error-slot');
  const form = h(
    'form.card.narrow',
    { novalidate: true, 'aria-label': t('Two-factor code') },
    h('h1', {}, t('Two-factor code')),
    h('p', {}, t('Enter the 6-digit code from your authenticator app, or one of your recovery codes.')),
    field(t('Code'), code),
    message,
    h('div.actions', {}, h('button.primary', { type: 'submit' }, t('Verify'))),
  );
  onSubmit(form, message, async () => {
    try {
      await api.post('/api/auth/mfa/complete', { mfaToken, code: code.value.trim() });
    } catch (err) {
      code.select();
      throw err;
    }
    await onDone();
  });
  return form;
}

function downloadLink(codes) {
  const text = `${t('{app} recovery codes for {user}', { app: state.appName || 'Lutra', user: state.user?.username || '' })}\n${t('Each code works once.')}\n\n${codes.join('\n')}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  return h('a.button.secondary', { href: url, download: 'recovery-codes.txt' }, t('Download recovery codes'));
}

/** The recovery codes, shown once. */
export function recoveryCodes(codes) {
  return h(
    'div.recovery-codes',
    {},
    h('p', {}, t('Recovery codes: each works once if you lose your phone. Keep them somewhere safe; they are not shown again.')),
    h('ul.codes', { 'aria-label': t('Recovery codes') }, codes.map((c) => h('li', {}, h('code', {}, c)))),
    downloadLink(codes),
  );
}

/** Enrolment: start, scan the QR code, confirm with a code. Calls onDone() once it is on. */
export function enrolment(container, onDone) {
  const start = h('button.primary', { type: 'button' }, t('Set up two-factor login'));
  const message = h('div.error-slot');
  start.addEventListener('click', async () => {
    clear(message);
    let data;
    try {
      data = await api.post('/api/auth/mfa/enroll');
    } catch (err) {
      append(message, h('p.error', { role: 'alert' }, err.message));
      return;
    }
    const code = codeInput();
    const verifyMessage = h('div.error-slot');
    const form = h(
      'form.mfa-verify',
      { novalidate: true, 'aria-label': t('Confirm two-factor login') },
      field(t('Code from the app'), code, t('Two-factor login is on once this code is accepted.')),
      verifyMessage,
      h('div.actions', {}, h('button.primary', { type: 'submit' }, t('Turn on'))),
    );
    onSubmit(form, verifyMessage, async () => {
      await api.post('/api/auth/mfa/verify', { code: code.value.trim() });
      await loadSession();
      clear(container, h('p.ok', { role: 'status' }, t('Two-factor login is on.')), recoveryCodes(data.recoveryCodes));
      await onDone();
    });
    clear(
      container,
      h('p', {}, t('Scan this QR code with an authenticator app (Aegis, Google Authenticator, 1Password ...), or type the key.')),
      h('img.qr', { src: `data:image/svg+xml;base64,${btoa(data.qrSvg)}`, alt: t('QR code of the two-factor key'), width: 164, height: 164 }),
      h('p', {}, t('Key:'), ' ', h('code.secret', {}, data.secret)),
      recoveryCodes(data.recoveryCodes),
      form,
    );
    code.focus();
  });
  clear(container, start, message);
}

/** The profile card: on/off, renew recovery codes, turn off. */
export function profileCard() {
  const card = h('section.card', { 'aria-label': t('Two-factor login') }, h('h2', {}, t('Two-factor login')));
  const body = h('div');
  append(card, body);
  const draw = () => {
    if (state.user?.authProvider === 'oidc') {
      clear(body, h('p', {}, t('You sign in through single sign-on: your identity provider asks for the second factor.')));
    } else if (state.user?.mfaEnabled) {
      const code = codeInput();
      const message = h('div.error-slot');
      const result = h('div.status-slot');
      const form = h(
        'form.mfa-manage',
        { novalidate: true, 'aria-label': t('Manage two-factor login') },
        field(t('Current code'), code, t('Needed to renew the recovery codes or turn two-factor login off.')),
        message,
        h(
          'div.actions',
          {},
          h('button.secondary', { type: 'submit', onClick: () => (form.dataset.action = 'codes') }, t('New recovery codes')),
          h('button.danger', { type: 'submit', onClick: () => (form.dataset.action = 'off') }, t('Turn off')),
        ),
      );
      onSubmit(form, message, async () => {
        const action = form.dataset.action || 'codes';
        if (action === 'off') {
          await api.post('/api/auth/mfa/disable', { code: code.value.trim() });
          await loadSession();
          draw();
        } else {
          const { recoveryCodes: codes } = await api.post('/api/auth/mfa/recovery-codes', { code: code.value.trim() });
          form.reset();
          clear(result, recoveryCodes(codes));
        }
      });
      clear(body, h('p', {}, t('On: signing in asks for a code from your authenticator app.')), form, result);
    } else {
      const container = h('div');
      enrolment(container, async () => {});
      clear(body, h('p', {}, t('Off: signing in needs only your password.')), container);
    }
  };
  draw();
  return card;
}

/** /setup-2fa: the enrolment a requireMfa setting or role makes mandatory before anything else. */
export const setupPage = {
  async render(main, ctx) {
    ctx.setTitle(t('Set up two-factor login'));
    const container = h('div');
    const next = h('div.actions');
    append(
      main,
      h(
        'div.card.narrow',
        {},
        h('h1', {}, t('Set up two-factor login')),
        h('p', {}, t('Your administrator requires a second factor: set it up to continue.')),
        container,
        next,
      ),
    );
    enrolment(container, async () => {
      clear(next, h('button.primary', { type: 'button', onClick: () => ctx.navigate('/', { replace: true }) }, t('Continue')));
    });
  },
};
