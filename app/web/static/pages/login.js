// Signing in, and the password change that a first login (or a reset by an admin) requires.

import { api } from '../api.js';
import { append, field, h, onSubmit } from '../dom.js';
import { FormError } from '../form.js';
import { t, tk } from '../i18n.js';
import { forgetCatalog, loadSession, state } from '../state.js';
import { secondStep } from './mfa.js';

// Why a single sign-on came back to the login page (the callback's ?ssoError=CODE).
const SSO_ERRORS = {
  OIDC_STATE_INVALID: tk('The sign-in took too long or was started elsewhere. Try again.'),
  OIDC_INVALID_ID_TOKEN: tk('The answer of the identity provider could not be verified.'),
  OIDC_USER_NOT_FOUND: tk('No account here belongs to that sign-in. Ask an administrator.'),
  USER_LIMIT_REACHED: tk('No more accounts can be created here (user limit reached).'),
  OIDC_DENIED: tk('The identity provider refused the sign-in.'),
};

function safeNext(query) {
  const next = query.get('next') || '/';
  // Only our own UI paths: never another site, never the API.
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/api') ? next : '/';
}

/** Where to go after signing in: the password page first when a new password is due (keeping ?next),
 * then the two-factor set-up when one is required. */
function afterLogin(user, query) {
  if (!user?.mustChangePassword) return user?.mfaEnrolmentRequired ? '/setup-2fa' : safeNext(query);
  const next = safeNext(query);
  return next === '/' ? '/change-password' : `/change-password?next=${encodeURIComponent(next)}`;
}

export async function render(main, ctx) {
  ctx.setTitle(t('Log in'));
  if (state.user) {
    ctx.navigate(afterLogin(state.user, ctx.query), { replace: true });
    return;
  }
  if (!state.authEnabled) {
    await loadSession();
    ctx.navigate('/', { replace: true });
    return;
  }
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const message = h('div.error-slot');
  const ssoError = ctx.query.get('ssoError');
  if (ssoError) append(message, h('p.error', { role: 'alert' }, SSO_ERRORS[ssoError] ? t(SSO_ERRORS[ssoError]) : t('Single sign-on failed.')));
  // A plain link, not a script call: the browser itself goes to the provider and back.
  const sso = state.oidc.enabled ? h('a.button.sso', { href: '/api/auth/oidc/login' }, state.oidc.label || t('Sign in with SSO')) : null;
  const passwordFields = state.passwordLogin
    ? [field(t('Username'), username), field(t('Password'), password)]
    : [h('p', {}, t('Sign in through your organisation’s identity provider.'))];
  const form = h(
    'form.card.narrow',
    { novalidate: true, 'aria-label': t('Log in') },
    h('h1', {}, t('Log in to {app}', { app: state.appName })),
    passwordFields,
    message,
    h('div.actions', {}, state.passwordLogin ? h('button.primary', { type: 'submit' }, t('Log in')) : null, sso),
  );
  const finish = async () => {
    forgetCatalog();
    const user = await loadSession();
    ctx.navigate(afterLogin(user, ctx.query), { replace: true });
  };
  onSubmit(form, message, async () => {
    let answer;
    try {
      answer = await api.post('/api/auth/login', { username: username.value, password: password.value });
    } catch (err) {
      password.select();
      throw err;
    }
    if (answer.mfaRequired) {
      // The password was right; the session comes with the second factor.
      const step = secondStep(answer.mfaToken, finish);
      form.replaceWith(step);
      step.querySelector('input').focus();
      return;
    }
    await finish();
  });
  append(main, form);
  if (state.passwordLogin) username.focus();
}

export const changePassword = {
  async render(main, ctx) {
    ctx.setTitle(t('Change password'));
    append(main,
      h(
        'div.card.narrow',
        {},
        h('h1', {}, t('Choose a new password')),
        state.user?.mustChangePassword
          ? h('p', {}, t('This is your first login (or an administrator reset your password): choose your own password to continue.'))
          : null,
        passwordForm({
          onDone: async () => {
            await loadSession();
            ctx.navigate(safeNext(ctx.query), { replace: true });
          },
        }),
      ),
    );
    main.querySelector('input')?.focus();
  },
};

/** The change-password form, used here and on the profile page. */
export function passwordForm({ onDone }) {
  const current = h('input', { name: 'currentPassword', type: 'password', autocomplete: 'current-password' });
  const fresh = h('input', { name: 'newPassword', type: 'password', autocomplete: 'new-password', minlength: 8 });
  const repeat = h('input', { name: 'repeatPassword', type: 'password', autocomplete: 'new-password' });
  const message = h('div.error-slot');
  const form = h(
    'form.password-form',
    { novalidate: true, 'aria-label': t('Change password') },
    field(t('Current password'), current),
    field(t('New password'), fresh, t('At least 8 characters. Your other sessions end and your API keys are revoked.')),
    field(t('Repeat the new password'), repeat),
    message,
    h('div.actions', {}, h('button.primary', { type: 'submit' }, t('Change password'))),
  );
  onSubmit(form, message, async () => {
    if (fresh.value !== repeat.value) throw new FormError({ repeatPassword: t('The two new passwords differ') });
    try {
      await api.post('/api/auth/change-password', { currentPassword: current.value, newPassword: fresh.value });
    } catch (err) {
      // A wrong current password, or a new one the policy refuses: the message belongs at that input.
      const target =
        err.code === 'INVALID_PASSWORD' ? 'currentPassword' : err.details?.rule || err.details?.newPassword ? 'newPassword' : null;
      if (target) err.details = { [target]: err.message };
      throw err;
    }
    form.reset();
    await onDone();
  });
  return form;
}
