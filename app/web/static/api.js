// Talking to Lutra's REST API from the page. The session is the HttpOnly cookie set by /api/auth/login
// (same origin, SameSite=Strict), so no token is kept in script-readable storage. Every failure
// becomes an ApiError carrying the server's {error, code, details}.

import { t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || t('Request failed (HTTP {status})', { status }));
    this.name = 'ApiError';
    this.status = status;
    this.code = (body && body.code) || 'ERROR';
    this.details = (body && body.details) || null;
  }
}

// The app listens for these to send the user to the login or password page from anywhere.
const authListeners = new Set();
export function onAuthProblem(listener) {
  authListeners.add(listener);
}

function reportAuth(err, path) {
  // A wrong password or code is the form's error, not a lost session.
  if (['/api/auth/login', '/api/auth/change-password', '/api/auth/mfa/'].some((p) => path.startsWith(p))) return;
  if (err.status === 401) authListeners.forEach((fn) => fn('login', err));
  else if (err.status === 403 && err.code === 'MUST_CHANGE_PASSWORD') authListeners.forEach((fn) => fn('password', err));
  else if (err.status === 403 && err.code === 'MFA_ENROLMENT_REQUIRED') authListeners.forEach((fn) => fn('mfa', err));
}

function parseBody(text, status) {
  try {
    const body = JSON.parse(text);
    if (body && typeof body === 'object') return body;
  } catch {
    // not JSON: a proxy's error page, say
  }
  return { error: status >= 500 ? t('Server error (HTTP {status})', { status }) : text.slice(0, 200) || `HTTP ${status}` };
}

export function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** fetch() with the error shape: resolves the parsed JSON (or the Response with raw: true). */
export async function request(method, path, { json, body, query, raw = false, headers = {} } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let response;
  try {
    response = await fetch(withQuery(path, query), init);
  } catch {
    throw new ApiError(0, { error: t('The server could not be reached'), code: 'NETWORK_ERROR' });
  }
  if (!response.ok) {
    const err = new ApiError(response.status, parseBody(await response.text(), response.status));
    reportAuth(err, path);
    throw err;
  }
  if (raw) return response;
  const type = response.headers.get('content-type') || '';
  return type.includes('application/json') ? response.json() : response;
}

export const api = {
  get: (path, query) => request('GET', path, { query }),
  post: (path, json) => request('POST', path, { json }),
  put: (path, json) => request('PUT', path, { json }),
  patch: (path, json) => request('PATCH', path, { json }),
  del: (path, json) => request('DELETE', path, { json }),
};

/**
 * POSTs a multipart form through XMLHttpRequest, because fetch() cannot report upload progress.
 * Resolves {status, json, blob, header(name)}; rejects with ApiError like request().
 */
export function upload(path, formData, { onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.responseType = 'blob';
    xhr.setRequestHeader('Accept', 'application/json');
    if (onProgress) {
      xhr.upload.addEventListener('progress', (event) => {
        if (event.lengthComputable) onProgress((100 * event.loaded) / event.total);
      });
    }
    xhr.addEventListener('error', () =>
      reject(new ApiError(0, { error: t('The upload failed: the server could not be reached'), code: 'NETWORK_ERROR' })),
    );
    xhr.addEventListener('load', async () => {
      const blob = xhr.response;
      const type = xhr.getResponseHeader('content-type') || '';
      if (xhr.status >= 400) {
        const err = new ApiError(xhr.status, parseBody(await blob.text(), xhr.status));
        reportAuth(err, path);
        reject(err);
        return;
      }
      const json = type.includes('application/json') ? JSON.parse(await blob.text()) : null;
      resolve({ status: xhr.status, json, blob, header: (name) => xhr.getResponseHeader(name) });
    });
    xhr.send(formData);
  });
}

/**
 * Follows a job's server-sent progress events until it ends. Calls onEvent for every frame and
 * resolves the `completed` event's result; rejects with an ApiError for failed or canceled jobs.
 * Returns {done, close}; close() stops listening (the page was left).
 */
export function followJob(jobId, onEvent) {
  let source = null;
  const done = new Promise((resolve, reject) => {
    source = new EventSource(`/api/v1/jobs/${encodeURIComponent(jobId)}/progress`);
    source.addEventListener('message', (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      onEvent?.(event);
      if (event.status === 'completed') {
        source.close();
        resolve(event.result || {});
      } else if (event.status === 'failed' || event.status === 'canceled') {
        source.close();
        reject(new ApiError(422, { error: event.error || humanStatus(event.status), code: event.code || event.status.toUpperCase() }));
      }
    });
    // EventSource reconnects by itself after a dropped connection; a refused one (401, 404) is final.
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) {
        reject(new ApiError(0, { error: t('Lost the connection to the job'), code: 'STREAM_CLOSED' }));
      }
    });
  });
  return { done, close: () => source?.close() };
}

function humanStatus(status) {
  return status === 'canceled' ? t('Canceled') : t('Processing failed');
}

/** The file name from a Content-Disposition header (RFC 6266 filename* first). */
export function dispositionName(header, fallback = 'download') {
  if (!header) return fallback;
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      // fall through to the plain name
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(header);
  return plain ? plain[1] : fallback;
}
