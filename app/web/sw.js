// Lutra's service worker: caches the app shell (the HTML page and the UI's own scripts, styles and
// icons) so the UI opens fast and installs as an app. It never caches the API, downloads or anything
// a user uploaded: those requests go to the network untouched.
//
// The server fills in VERSION (a hash of the UI's files) and ASSETS when it serves this file, so every
// upgrade is a new worker with a new cache, and the old cache is deleted when it takes over.

const VERSION = '__VERSION__';
const SHELL = `lutra-shell-${VERSION}`;
const ASSETS = __ASSETS__;
const ASSET_SET = new Set(ASSETS);

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(SHELL)
      .then((cache) => cache.addAll(ASSETS))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith('lutra-shell-') && name !== SHELL).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && !url.pathname.startsWith('/api/')) {
    // Network first for the page itself: the newest shell when online, the cached one offline.
    event.respondWith(fetch(request).catch(() => caches.match('/', { cacheName: SHELL })));
    return;
  }
  if (ASSET_SET.has(url.pathname)) {
    // This worker's assets belong to its version, so the cached copy is the right one.
    event.respondWith(caches.match(url.pathname, { cacheName: SHELL }).then((hit) => hit || fetch(request)));
  }
});
