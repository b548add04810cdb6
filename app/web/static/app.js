// The browser UI's entry point: reads the session, draws the navigation for the user's permissions
// and routes paths to pages with the History API (the server answers every UI path with this shell).

import { api, onAuthProblem } from './api.js';
import { clear, errorMessage, h } from './dom.js';
import * as automations from './pages/automations.js';
import * as files from './pages/files.js';
import * as home from './pages/home.js';
import * as login from './pages/login.js';
import * as pipelines from './pages/pipelines.js';
import * as settings from './pages/settings.js';
import * as tool from './pages/tool.js';
import { applyStoredTheme, ensurePreferences, forgetPreferences } from './prefs.js';
import { releasePreviews } from './results.js';
import { forgetCatalog, loadSession, state } from './state.js';

// The same paths as UI_PATHS in app/web/routes.py.
const ROUTES = [
  { pattern: /^\/$/, page: home, nav: 'tools' },
  { pattern: /^\/login$/, page: login, anonymous: true },
  { pattern: /^\/change-password$/, page: login.changePassword, temporary: true },
  { pattern: /^\/tools\/([^/]+)\/([^/]+)$/, page: tool, keys: ['section', 'toolId'], nav: 'tools' },
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
  if (!state.user || state.user.mustChangePassword) {
    clear(nav, state.user ? logoutButton() : null);
    return;
  }
  const links = [
    ['tools', '/', 'Tools', true],
    ['pipelines', '/pipelines', 'Pipelines', state.can('pipelines:own')],
    ['files', '/files', 'Files', state.can('files:own')],
    ['automations', '/automations', 'Automations', state.can('automations:manage')],
    ['settings', '/settings', 'Settings', true],
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
      h('a.docs-link', { href: '/api/docs', title: 'The REST API, documented' }, 'API docs'),
      h('span.username', { title: `Role: ${state.user.role}` }, state.user.username),
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
        await api.post('/api/auth/logout').catch(() => null);
        state.user = null;
        forgetCatalog();
        forgetPreferences();
        navigate('/login', { replace: true });
      },
    },
    'Log out',
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
    document.title = 'Not found · Lutra';
    clear(main, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '/' }, 'Back to the tools')));
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
  await ensurePreferences(state.user);
  drawNav(route.nav);
  if (route.permission && !state.can(route.permission)) {
    clear(main, h('h1', {}, 'Not allowed'), errorMessage(`Your role does not include ${route.permission}.`));
    return;
  }
  const ctx = {
    params,
    query: new URLSearchParams(search),
    navigate,
    setTitle: (title) => (document.title = `${title} · Lutra`),
    onLeave: (fn) => leaving.push(fn),
  };
  ctx.setTitle('Lutra');
  // Each page draws into its own element: a page still loading when the user moves on draws into a
  // detached one, never over the next page.
  const view = h('div.view');
  clear(main, view);
  main.focus({ preventScroll: true });
  try {
    await route.page.render(view, ctx);
  } catch (err) {
    // 401/403 answers already moved the user on; anything else is shown where the page would be.
    if (err.status !== 401 && err.code !== 'MUST_CHANGE_PASSWORD') clear(view, h('h1', {}, 'Something went wrong'), errorMessage(err));
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
  }
});

async function start() {
  applyStoredTheme();
  try {
    await loadSession();
  } catch (err) {
    clear(main, h('h1', {}, 'Lutra is not answering'), errorMessage(err));
    return;
  }
  await render();
}

// Installable, with the app shell cached; the worker never caches the API or user files (sw.js).
if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => null);

start();
