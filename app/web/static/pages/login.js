// Signing in, and the password change that a first login (or a reset by an admin) requires.

import { api } from '../api.js';
import { append, field, h, onSubmit } from '../dom.js';
import { FormError } from '../form.js';
import { forgetCatalog, loadSession, state } from '../state.js';

function safeNext(query) {
  const next = query.get('next') || '/';
  // Only our own UI paths: never another site, never the API.
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/api') ? next : '/';
}

/** Where to go after signing in: the password page first when a new password is due (keeping ?next). */
function afterLogin(user, query) {
  if (!user?.mustChangePassword) return safeNext(query);
  const next = safeNext(query);
  return next === '/' ? '/change-password' : `/change-password?next=${encodeURIComponent(next)}`;
}

export async function render(main, ctx) {
  ctx.setTitle('Log in');
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
  const form = h(
    'form.card.narrow',
    { novalidate: true, 'aria-label': 'Log in' },
    h('h1', {}, 'Log in to Lutra'),
    field('Username', username),
    field('Password', password),
    message,
    h('div.actions', {}, h('button.primary', { type: 'submit' }, 'Log in')),
  );
  onSubmit(form, message, async () => {
    try {
      await api.post('/api/auth/login', { username: username.value, password: password.value });
    } catch (err) {
      password.select();
      throw err;
    }
    forgetCatalog();
    const user = await loadSession();
    ctx.navigate(afterLogin(user, ctx.query), { replace: true });
  });
  append(main, form);
  username.focus();
}

export const changePassword = {
  async render(main, ctx) {
    ctx.setTitle('Change password');
    append(main,
      h(
        'div.card.narrow',
        {},
        h('h1', {}, 'Choose a new password'),
        state.user?.mustChangePassword
          ? h('p', {}, 'This is your first login (or an administrator reset your password): choose your own password to continue.')
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
    { novalidate: true, 'aria-label': 'Change password' },
    field('Current password', current),
    field('New password', fresh, 'At least 8 characters. Your other sessions end and your API keys are revoked.'),
    field('Repeat the new password', repeat),
    message,
    h('div.actions', {}, h('button.primary', { type: 'submit' }, 'Change password')),
  );
  onSubmit(form, message, async () => {
    if (fresh.value !== repeat.value) throw new FormError({ repeatPassword: 'The two new passwords differ' });
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
