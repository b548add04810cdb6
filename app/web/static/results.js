// Running a job and showing what came out: the progress bar (upload, then the job's SSE events), the
// result with a preview fitting its type (before/after for images, players for audio and video, a
// page image for PDFs, the start of text files), downloads and "save to library".

import { api, followJob, upload } from './api.js';
import { append, clear, errorMessage, facts, formatBytes, formatDuration, h, humanize, notice } from './dom.js';
import { formatNumber, t } from './i18n.js';
import { state } from './state.js';

const IMAGE = /\.(jpe?g|png|webp|gif|avif|bmp|svg|ico)$/i;
const OTHER_IMAGE = /\.(heic|heif|tiff?|jxl|jp2)$/i; // shown through /api/v1/preview (WebP)
const AUDIO = /\.(mp3|wav|ogg|oga|opus|m4a|aac|flac|weba)$/i;
const VIDEO = /\.(mp4|webm|mov|m4v|mkv|ogv)$/i;
const TEXT = /\.(txt|json|csv|tsv|srt|vtt|md|xml|ya?ml|html|log)$/i;
const BROWSER_IMAGE_TYPES = /^image\/(jpeg|png|webp|gif|avif|bmp|svg\+xml|x-icon|vnd\.microsoft\.icon)$/;
const KNOWN_KEYS = new Set([
  'jobId', 'downloadUrl', 'downloads', 'originalSize', 'processedSize', 'width', 'height', 'savedFileId',
  'saveError', 'stepsCompleted', 'steps', 'async',
]);

// Object URLs made for previews, released when the page changes.
let objectUrls = [];
export function objectUrl(blob) {
  const url = URL.createObjectURL(blob);
  objectUrls.push(url);
  return url;
}
export function releasePreviews() {
  objectUrls.forEach((url) => URL.revokeObjectURL(url));
  objectUrls = [];
}

/** A progress bar with a text label ("42% · Encoding"); indeterminate while the percent is unknown. */
export function progressBar() {
  const bar = h('progress', { max: 100 });
  const text = h('span.progress-text', { 'aria-live': 'polite' });
  const element = h('div.progress', { hidden: true }, bar, text);
  return {
    element,
    set(percent, label = '') {
      element.hidden = false;
      const value = Math.max(0, Math.min(100, Math.round(percent)));
      bar.value = value;
      element.dataset.percent = String(value);
      text.textContent = label ? `${value}% · ${label}` : `${value}%`;
    },
    busy(label) {
      element.hidden = false;
      bar.removeAttribute('value');
      delete element.dataset.percent;
      text.textContent = label;
    },
    hide() {
      element.hidden = true;
    },
  };
}

/** Upload progress, then an indeterminate bar once the bytes are sent and the server works. */
function showUpload(progress, pct, busyLabel = t('Processing…')) {
  if (pct >= 100) progress.busy(busyLabel);
  else progress.set(pct, t('Uploading'));
}

/**
 * Sends a tool or pipeline request and waits for its result: a fast tool's 200 answer, or a long
 * one's 202 followed over SSE. `body` is FormData (uploaded with progress) or a plain object (JSON).
 * onJob(jobId) is called for long jobs, so the page can offer Cancel; track(stream) lets it close
 * the event stream when the user leaves.
 */
export async function runJob(url, body, progress, { onJob, track } = {}) {
  let answer;
  if (body instanceof FormData) {
    progress.set(0, t('Uploading'));
    const reply = await upload(url, body, { onProgress: (pct) => showUpload(progress, pct) });
    progress.busy(t('Processing…'));
    answer = reply.json;
  } else {
    progress.busy(t('Processing…'));
    answer = await api.post(url, body);
  }
  if (!answer || !answer.async) {
    progress.set(100, t('Done'));
    return answer || {};
  }
  onJob?.(answer.jobId);
  progress.set(0, t('Queued'));
  const stream = followJob(answer.jobId, (event) => {
    const pct = event.percent ?? event.progress ?? 0;
    if (event.status === 'completed') progress.set(100, t('Done'));
    else if (event.status === 'processing') progress.set(pct, event.message || event.stage || t('Processing'));
  });
  track?.(stream);
  const result = await stream.done;
  progress.set(100, t('Done'));
  return result;
}

/** Sends many files through a batch route; the answer is a ZIP plus per-file results in headers. */
export async function runBatch(url, body, progress) {
  progress.set(0, t('Uploading'));
  const reply = await upload(url, body, { onProgress: (pct) => showUpload(progress, pct, t('Processing the files…')) });
  progress.set(100, t('Done'));
  const header = (name) => {
    try {
      return JSON.parse(decodeURIComponent(reply.header(name) || '{}'));
    } catch {
      return {};
    }
  };
  const disposition = reply.header('content-disposition') || '';
  const name = /filename="?([^";]+)"?/i.exec(disposition)?.[1] || 'batch.zip';
  const jobId = reply.header('x-job-id');
  let fileResults = header('x-file-results');
  let errors = header('x-file-errors');
  if (fileResults.resultsFile && jobId) {
    // Many files: the lists are in the ZIP's results.json, and in the finished job's result too.
    const job = await api.get(`/api/v1/jobs/${encodeURIComponent(jobId)}`);
    fileResults = job.result?.fileResults || {};
    errors = job.result?.errors || {};
  }
  return { blob: reply.blob, filename: name, jobId, fileResults, errors };
}

function fileNameOf(url) {
  const last = String(url).split('?')[0].split('/').pop(); // download URLs carry a signature query
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

function mediaPreview(tag, src, label) {
  return h(`${tag}.media`, { src, controls: true, preload: 'metadata', 'aria-label': label });
}

/** An <img> whose pixel size is written into `label` once it loads. */
function measuredImage(tag, src, alt, label) {
  const img = h(tag, { src, alt });
  img.addEventListener('load', () => (label.textContent = `${img.naturalWidth} × ${img.naturalHeight}`));
  return img;
}

function singleImage(src, caption) {
  const dims = h('span.dims');
  return h('figure', {}, measuredImage('img', src, caption, dims), h('figcaption', {}, `${caption} `, dims));
}

/** Two images stacked, the divider moved by a slider: left of it "before", right of it "after". */
function beforeAfter(beforeSrc, afterSrc) {
  const beforeDims = h('span.dims');
  const afterDims = h('span.dims');
  const afterLayer = measuredImage('img.after', afterSrc, t('After'), afterDims);
  const stage = h('div.compare-stage', {}, measuredImage('img.before', beforeSrc, t('Before'), beforeDims), afterLayer);
  const slider = h('input', { type: 'range', min: 0, max: 100, value: 50, 'aria-label': t('Before and after divider') });
  const move = () => {
    // CSSOM, not a style attribute: allowed by the page's Content-Security-Policy.
    afterLayer.style.clipPath = `inset(0 0 0 ${slider.value}%)`;
  };
  slider.addEventListener('input', move);
  move();
  return h(
    'div.compare',
    {},
    stage,
    slider,
    h('p.compare-captions', {}, h('span.before-label', {}, t('Before'), ' ', beforeDims), h('span.after-label', {}, t('After'), ' ', afterDims)),
  );
}

async function viewableImage(blob) {
  if (BROWSER_IMAGE_TYPES.test(blob.type)) return objectUrl(blob);
  const form = new FormData();
  form.append('file', blob, 'preview');
  const reply = await upload('/api/v1/preview', form);
  return objectUrl(reply.blob);
}

/** Where the "before" picture comes from: the uploaded file, or the library file's thumbnail. */
async function beforeSource(source) {
  if (!source) return null;
  if (source.file && source.file.type.startsWith('image/')) return viewableImage(source.file);
  if (source.file && OTHER_IMAGE.test(source.file.name)) return viewableImage(source.file);
  const file = source.libraryFile;
  if (file && BROWSER_IMAGE_TYPES.test(file.mimeType || '')) return `/api/v1/files/${encodeURIComponent(file.id)}/download`;
  // HEIC, TIFF...: the library's JPEG thumbnail (300 px) stands in.
  if (file && file.mimeType?.startsWith('image/')) return `/api/v1/files/${encodeURIComponent(file.id)}/thumbnail`;
  return null;
}

function pdfPreviewAvailable() {
  const tool = state.toolById?.get('pdf-to-image');
  return Boolean(tool && tool.actions?.some((a) => a.name === 'preview'));
}

/** The first page of a PDF output as an image, through pdf-to-image's preview action. */
async function pdfPage(url) {
  const pdf = await (await fetch(url, { credentials: 'same-origin' })).blob();
  const form = new FormData();
  form.append('file', pdf, 'result.pdf');
  form.append('settings', JSON.stringify({ page: 1, dpi: 72 }));
  const reply = await upload('/api/v1/tools/pdf/pdf-to-image/preview', form);
  return objectUrl(reply.blob);
}

async function textStart(url) {
  const response = await fetch(url, { credentials: 'same-origin', headers: { Range: 'bytes=0-20479' } });
  const text = await response.text();
  return h('pre.text-preview', {}, text.length >= 20480 ? `${text}\n…` : text);
}

/** The preview of one output, filled in when it is ready (fetches run after the view is shown). */
function previewOf(url, source) {
  const slot = h('div.preview', { dataset: { kind: 'loading' } });
  const name = fileNameOf(url);
  const fill = async () => {
    if (IMAGE.test(name) || OTHER_IMAGE.test(name)) {
      const after = IMAGE.test(name) ? url : await viewableImage(await (await fetch(url)).blob());
      const before = await beforeSource(source).catch(() => null);
      slot.dataset.kind = 'image';
      clear(slot, before ? beforeAfter(before, after) : singleImage(after, t('Result')));
    } else if (AUDIO.test(name)) {
      slot.dataset.kind = 'audio';
      clear(slot, mediaPreview('audio', url, t('Result audio')));
    } else if (VIDEO.test(name)) {
      slot.dataset.kind = 'video';
      clear(slot, mediaPreview('video', url, t('Result video')));
    } else if (/\.pdf$/i.test(name) && pdfPreviewAvailable()) {
      slot.dataset.kind = 'pdf';
      clear(slot, singleImage(await pdfPage(url), t('Page 1')));
    } else if (TEXT.test(name)) {
      slot.dataset.kind = 'text';
      clear(slot, await textStart(url));
    } else {
      slot.dataset.kind = 'none';
      clear(slot, h('p.muted', {}, t('No preview for this type of file; download it to open it.')));
    }
  };
  fill().catch((err) => {
    slot.dataset.kind = 'none';
    clear(slot, notice(t('No preview: {reason}', { reason: err.message })));
  });
  return slot;
}

function saveButton(jobId, filename) {
  const slot = h('span.save-slot');
  const button = h('button.secondary', { type: 'button' }, t('Save to library'));
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const saved = await api.post('/api/v1/files/save-result', { jobId, filename });
      clear(slot, h('span.ok', {}, t('Saved:'), ' '), h('a', { href: `/files/${encodeURIComponent(saved.file.id)}` }, saved.file.originalName));
    } catch (err) {
      button.disabled = false;
      clear(slot, errorMessage(err));
    }
  });
  return h('span.save', {}, button, slot);
}

function downloadLink(url, name, size) {
  return h('a.button.primary', { href: url, download: name }, t('Download {name}', { name }), size ? h('span.muted', {}, ` (${formatBytes(size)})`) : null);
}

function extraData(result) {
  const rows = Object.entries(result).filter(([key]) => !KNOWN_KEYS.has(key));
  if (!rows.length) return null;
  return facts(rows.map(([key, value]) => [humanize(key), value !== null && typeof value === 'object' ? h('pre', {}, JSON.stringify(value, null, 2)) : String(value)]));
}

// File families: a size change in percent means something only within one (a smaller JPEG, a
// lighter PDF), not from a recording to its transcript.
const FAMILIES = {
  image: ['jpg', 'jpeg', 'png', 'webp', 'avif', 'gif', 'tif', 'tiff', 'heic', 'heif', 'bmp', 'jxl', 'svg', 'ico'],
  video: ['mp4', 'mov', 'webm', 'mkv', 'avi', 'm4v'],
  audio: ['mp3', 'wav', 'ogg', 'opus', 'flac', 'm4a', 'aac'],
  pdf: ['pdf'],
};

function family(name) {
  const ext = (/\.([a-z0-9]+)$/i.exec(name || '') || [])[1]?.toLowerCase();
  return Object.keys(FAMILIES).find((key) => FAMILIES[key].includes(ext)) || ext || null;
}

function sourceName(source) {
  return source?.file?.name || source?.libraryFile?.originalName || null;
}

function sizes(result, source = null) {
  if (result.processedSize === undefined) return null;
  const before = result.originalSize;
  const parts = [before ? `${formatBytes(before)} → ${formatBytes(result.processedSize)}` : formatBytes(result.processedSize)];
  const output = decodeURIComponent((result.downloadUrl || '').split('?')[0]);
  const input = sourceName(source);
  if (before && input && family(input) === family(output)) {
    const change = Math.round((100 * (result.processedSize - before)) / before);
    parts.push(formatNumber(change / 100, { style: 'percent', signDisplay: 'exceptZero' }));
  }
  if (result.width && result.height) parts.push(t('{width} × {height} px', { width: result.width, height: result.height }));
  if (typeof result.words === 'number') parts.push(t('{count} words', { count: result.words }));
  if (typeof result.duration === 'number') parts.push(formatDuration(result.duration));
  return h('p.result-stats', {}, parts.join(' · '));
}

/** The result of one run. `source` ({file} or {libraryFile}) gives images their "before". */
export function resultView(result, { source = null, canSave = state.can('files:own') } = {}) {
  const view = h('section.result', { 'aria-label': t('Result') }, h('h2', {}, t('Result')), sizes(result, source));
  if (result.steps?.length) {
    const title = (id) => state.toolById.get(id)?.title || id;
    append(view, h('p.muted', {}, `${t('Steps:')} ${result.steps.map((s) => `${s.step}. ${title(s.toolId)} (${formatBytes(s.size)})`).join(' → ')}`));
  }
  const outputs = result.downloads?.length
    ? result.downloads.map((d) => ({ url: d.downloadUrl, name: d.filename, size: d.size }))
    : result.downloadUrl
      ? [{ url: result.downloadUrl, name: fileNameOf(result.downloadUrl), size: result.processedSize }]
      : [];
  if (outputs.length === 1) append(view, previewOf(outputs[0].url, source));
  const actions = h('div.result-actions');
  for (const output of outputs) {
    append(actions,
      h(
        'div.output',
        {},
        downloadLink(output.url, output.name, outputs.length > 1 ? output.size : null),
        canSave && result.jobId && !result.savedFileId ? saveButton(result.jobId, output.name) : null,
      ),
    );
  }
  append(view, actions);
  if (result.savedFileId) {
    append(view,
      h('p.ok', {}, t('Saved as the next version of the library file.'), ' ', h('a', { href: `/files/${encodeURIComponent(result.savedFileId)}` }, t('Open in library'))),
    );
  } else if (result.saveError) {
    append(view, errorMessage(t('Not saved to the library: {reason}', { reason: result.saveError })));
  }
  append(view, extraData(result));
  return view;
}

/** The result of a batch: one line per input file, and the ZIP to download. */
export function batchResultView(batch, files) {
  const url = objectUrl(batch.blob);
  const rows = files.map((file, index) => {
    const output = batch.fileResults[String(index)];
    const failure = batch.errors[String(index)];
    return h(
      'li',
      { class: failure ? 'failed' : 'succeeded' },
      h('span.file-name', {}, file.name),
      failure ? h('span.error-inline', {}, ` ✗ ${failure.error}`) : h('span.ok', {}, ` → ${output || t('done')}`),
    );
  });
  const failed = Object.keys(batch.errors).length;
  return h(
    'section.result',
    { 'aria-label': t('Batch result') },
    h('h2', {}, t('Batch result')),
    h('p.result-stats', {}, failed
      ? t('{done} of {total} files processed, {failed} failed', { done: files.length - failed, total: files.length, failed })
      : t('{done} of {total} files processed', { done: files.length - failed, total: files.length })),
    h('ul.batch-list', {}, rows),
    h('div.result-actions', {}, downloadLink(url, batch.filename, batch.blob.size)),
  );
}
