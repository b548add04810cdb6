// The browser UI's entry point: reads the session, draws the navigation for the user's permissions
// and routes paths to pages with the History API (the server answers every UI path with this shell).

import { api, onAuthProblem } from './api.js';
import { clear, errorMessage, h } from './dom.js';
import * as automations from './pages/automations.js';
import * as convert from './pages/convert.js';
import * as files from './pages/files.js';
import * as home from './pages/home.js';
import * as login from './pages/login.js';
import * as organizer from './pages/organizer.js';
import { setupPage as mfaSetup } from './pages/mfa.js';
import * as pipelines from './pages/pipelines.js';
import * as settings from './pages/settings.js';
import * as tool from './pages/tool.js';
import { chooseLocale, setLocale, t } from './i18n.js';
import { applyStoredTheme, ensurePreferences, forgetPreferences, prefs } from './prefs.js';
import { releasePreviews } from './results.js';
import { forgetCatalog, loadBranding, loadSession, state } from './state.js';

// The same paths as UI_PATHS in app/web/routes.py.
const ROUTES = [
  { pattern: /^\/$/, page: home, nav: 'tools' },
  { pattern: /^\/login$/, page: login, anonymous: true },
  { pattern: /^\/change-password$/, page: login.changePassword, temporary: true },
  { pattern: /^\/setup-2fa$/, page: mfaSetup, temporary: true },
  { pattern: /^\/tools\/([^/]+)\/([^/]+)$/, page: tool, keys: ['section', 'toolId'], nav: 'tools' },
  { pattern: /^\/convert$/, page: convert, permission: 'tools:use', nav: 'convert' },
  { pattern: /^\/pdf-organizer$/, page: organizer, nav: 'tools' },
  { pattern: /^\/pipelines$/, page: pipelines, permission: 'pipelines:own', nav: 'pipelines' },
  { pattern: /^\/automations$/, page: automations, permission: 'automations:manage', nav: 'automations' },
  { pattern: /^\/files$/, page: files, permission: 'files:own', nav: 'files' },
  { pattern: /^\/files\/([^/]+)$/, page: files.detail, keys: ['fileId'], permission: 'files:own', nav: 'files' },
  { pattern: /^\/settings(?:\/([^/]+))?$/, page: settings, keys: ['tab'], nav: 'settings' },
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const topbar = document.querySelector('.topbar');
const toggle = document.querySelector('.nav-toggle');
let leaving = [];

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

function match(pathname) {
  for (const route of ROUTES) {
    const found = route.pattern.exec(pathname);
    if (found) {
      const params = {};
      (route.keys || []).forEach((key, i) => {
        params[key] = found[i + 1] === undefined ? undefined : decodeURIComponent(found[i + 1]);
      });
      return { route, params };
    }
  }
  return null;
}

function drawNav(active) {
  topbar.classList.toggle('anonymous', !state.user);
  topbar.classList.remove('open');
  toggle.setAttribute('aria-expanded', 'false');
  if (!state.user || state.user.mustChangePassword || state.user.mfaEnrolmentRequired) {
    clear(nav, state.user ? logoutButton() : null);
    return;
  }
  toggle.textContent = t('Menu');
  nav.setAttribute('aria-label', t('Main'));
  const skip = document.querySelector('.skip-link');
  if (skip) skip.textContent = t('Skip to content');
  const links = [
    ['tools', '/', t('Tools'), true],
    ['convert', '/convert', t('Convert'), state.can('tools:use')],
    ['pipelines', '/pipelines', t('Pipelines'), state.can('pipelines:own')],
    ['files', '/files', t('Files'), state.can('files:own')],
    ['automations', '/automations', t('Automations'), state.can('automations:manage')],
    ['settings', '/settings', t('Settings'), true],
  ];
  clear(
    nav,
    h(
      'ul.nav-links',
      {},
      links
        .filter(([, , , allowed]) => allowed)
        .map(([id, href, label]) => h('li', {}, h('a', { href, 'aria-current': id === active ? 'page' : null }, label))),
    ),
    h(
      'div.nav-user',
      {},
      h('a.docs-link', { href: '/api/docs', title: t('The REST API, documented') }, t('API docs')),
      h('span.username', { title: t('Role: {role}', { role: state.user.role }) }, state.user.username),
      state.authEnabled ? logoutButton() : null,
    ),
  );
}

function logoutButton() {
  return h(
    'button.linkish.logout',
    {
      type: 'button',
      onClick: async () => {
        const answer = await api.post('/api/auth/logout').catch(() => null);
        state.user = null;
        forgetCatalog();
        forgetPreferences();
        // A single sign-on session also ends at the provider (its end_session_endpoint).
        if (answer?.redirectUrl && /^https?:\/\//.test(answer.redirectUrl)) window.location.assign(answer.redirectUrl);
        else navigate('/login', { replace: true });
      },
    },
    t('Log out'),
  );
}

async function render() {
  leaving.forEach((fn) => fn());
  leaving = [];
  releasePreviews();
  const { pathname, search } = location;
  const found = match(pathname);
  if (!found) {
    drawNav(null);
    document.title = `${t('Not found')} · ${state.appName}`;
    clear(main, h('h1', {}, t('Page not found')), h('p', {}, h('a', { href: '/' }, t('Back to the tools'))));
    return;
  }
  const { route, params } = found;
  if (!route.anonymous && !state.user) {
    const next = pathname === '/' ? '' : `?next=${encodeURIComponent(pathname + search)}`;
    navigate(`/login${next}`, { replace: true });
    return;
  }
  if (state.user?.mustChangePassword && !route.temporary && !route.anonymous) {
    navigate('/change-password', { replace: true });
    return;
  }
  if (state.user?.mfaEnrolmentRequired && !route.temporary && !route.anonymous) {
    navigate('/setup-2fa', { replace: true });
    return;
  }
  await ensurePreferences(state.user);
  // A signed-in user's saved language wins; without one (or signed out) the browser's, then the server's.
  if (await setLocale(chooseLocale(state.user ? prefs.locale : undefined))) forgetCatalog();
  drawNav(route.nav);
  if (route.permission && !state.can(route.permission)) {
    clear(main, h('h1', {}, t('Not allowed')), errorMessage(t('Your role does not include {permission}.', { permission: route.permission })));
    return;
  }
  const ctx = {
    params,
    query: new URLSearchParams(search),
    navigate,
    setTitle: (title) => (document.title = `${title} · ${state.appName}`),
    onLeave: (fn) => leaving.push(fn),
  };
  document.title = state.appName;
  // Each page draws into its own element: a page still loading when the user moves on draws into a
  // detached one, never over the next page.
  const view = h('div.view');
  clear(main, view);
  main.focus({ preventScroll: true });
  try {
    await route.page.render(view, ctx);
  } catch (err) {
    // 401/403 answers already moved the user on; anything else is shown where the page would be.
    if (err.status !== 401 && err.code !== 'MUST_CHANGE_PASSWORD') clear(view, h('h1', {}, t('Something went wrong')), errorMessage(err));
  }
}

document.addEventListener('click', (event) => {
  const link = event.target.closest('a[href]');
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const href = link.getAttribute('href');
  if (!href.startsWith('/') || href.startsWith('/api') || href.startsWith('//') || link.hasAttribute('download') || link.target) return;
  event.preventDefault();
  navigate(href);
});

window.addEventListener('popstate', render);

toggle.addEventListener('click', () => {
  const open = !topbar.classList.contains('open');
  topbar.classList.toggle('open', open);
  toggle.setAttribute('aria-expanded', String(open));
});

onAuthProblem((kind) => {
  if (kind === 'login') {
    state.user = null;
    if (location.pathname !== '/login') navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
  } else if (kind === 'password' && location.pathname !== '/change-password') {
    if (state.user) state.user.mustChangePassword = true;
    navigate('/change-password', { replace: true });
  } else if (kind === 'mfa' && location.pathname !== '/setup-2fa') {
    if (state.user) state.user.mfaEnrolmentRequired = true;
    navigate('/setup-2fa', { replace: true });
  }
});

async function start() {
  applyStoredTheme();
  try {
    await Promise.all([loadSession(), loadBranding(), setLocale(chooseLocale())]);
  } catch (err) {
    clear(main, h('h1', {}, t('{app} is not answering', { app: state.appName })), errorMessage(err));
    return;
  }
  await render();
}

// Installable, with the app shell cached; the worker never caches the API or user files (sw.js).
if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => null);

start();
