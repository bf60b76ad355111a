// The dashboard's only way to the service: JSON and image requests with the API key (when one is
// set), and job events read as Server-Sent Events through fetch(), since EventSource cannot send an
// Authorization header.

const KEY_STORAGE = 'consort.apiKey';
const listeners = new Set();
/** True once a request without a key succeeded: this service asks for none. */
let openAccess = false;

export function isOpenAccess() {
  return openAccess;
}

export function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function setApiKey(key) {
  if (key) {
    sessionStorage.setItem(KEY_STORAGE, key);
  } else {
    sessionStorage.removeItem(KEY_STORAGE);
  }
  listeners.forEach((listener) => listener());
}

/** Called whenever the key changes, or the service refuses it (401). */
export function onKeyChange(listener) {
  listeners.add(listener);
}

/** A failed request: status and, when the service sent one, its RFC 9457 problem. */
export class ApiError extends Error {
  constructor(status, problem, fallback) {
    super(problem?.detail || problem?.title || fallback || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }

  /** The problem's field errors, as "field: message" lines. */
  get fieldErrors() {
    return (this.problem?.errors || []).map((error) => `${error.field}: ${error.message}`);
  }
}

function url(path) {
  return new URL(path.replace(/^\//, ''), document.baseURI);
}

function headers(extra) {
  const all = new Headers(extra);
  const key = apiKey();
  if (key) all.set('Authorization', `Bearer ${key}`);
  return all;
}

async function failure(response) {
  let problem = null;
  try {
    const type = response.headers.get('Content-Type') || '';
    if (type.includes('json')) problem = await response.json();
  } catch {
    // not a problem body: the status says enough
  }
  if (response.status === 401) listeners.forEach((listener) => listener(true));
  return new ApiError(response.status, problem, response.statusText);
}

export async function request(path, options = {}) {
  let response;
  try {
    response = await fetch(url(path), {
      method: options.method || 'GET',
      headers: headers({Accept: 'application/json', ...(options.headers || {})}),
      body: options.body,
      signal: options.signal,
      cache: 'no-store',
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, null, `The service could not be reached (${error.message})`);
  }
  if (!response.ok) throw await failure(response);
  if (!apiKey() && !openAccess) {
    openAccess = true;
    listeners.forEach((listener) => listener());
  }
  if (response.status === 204) return null;
  return response.json();
}

export function getJson(path, signal) {
  return request(path, {signal});
}

export function postJson(path, body, extraHeaders = {}) {
  return request(path, {
    method: 'POST',
    headers: {'Content-Type': 'application/json', ...extraHeaders},
    body: JSON.stringify(body),
  });
}

/** Every item of a cursor-paged list, up to {@code max}. */
export async function getAll(path, max = 2000, signal) {
  const items = [];
  let after = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const page = await getJson(`${path}${separator}limit=500${after ? `&after=${encodeURIComponent(after)}` : ''}`, signal);
    items.push(...page.items);
    after = page.has_more ? page.next_after : null;
  } while (after && items.length < max);
  return items;
}

/**
 * Loads an image through fetch (so it carries the key) into an <img>, as an object URL. Resolves once
 * the browser has decoded it.
 */
export async function loadImage(img, path, signal) {
  let response;
  try {
    response = await fetch(url(path), {headers: headers({Accept: 'image/png'}), signal, cache: 'no-store'});
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, null, `The service could not be reached (${error.message})`);
  }
  if (!response.ok) throw await failure(response);
  const blob = await response.blob();
  const previous = img.dataset.objectUrl;
  const objectUrl = URL.createObjectURL(blob);
  img.dataset.objectUrl = objectUrl;
  img.src = objectUrl;
  await img.decode().catch(() => {});
  if (previous) URL.revokeObjectURL(previous);
}

/**
 * Reads GET /jobs/{id}/events as Server-Sent Events until the service ends the stream (it does when
 * the job has finished and every event was sent). Calls onEvent({id, name, data}) per event, data
 * parsed from JSON. Resolves with the id of the last event seen.
 */
export async function readEventStream(jobId, after, onEvent, signal) {
  let response;
  try {
    response = await fetch(url(`jobs/${encodeURIComponent(jobId)}/events?after=${after}`), {
      headers: headers({Accept: 'text/event-stream'}),
      signal,
      cache: 'no-store',
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, null, `The event stream could not be opened (${error.message})`);
  }
  if (!response.ok) throw await failure(response);
  await readEvents(response, (event) => {
    after = Number(event.id) || after;
    onEvent(event);
  });
  return after;
}

/**
 * POSTs {@code body} to a completions endpoint with {@code stream: true} and reads the tokens as Server-Sent Events
 * (token, choice, done) until the service ends the stream. Calls onEvent({id, name, data}) per event.
 */
export async function streamCompletion(path, body, onEvent, signal) {
  let response;
  try {
    response = await fetch(url(path), {
      method: 'POST',
      headers: headers({Accept: 'text/event-stream', 'Content-Type': 'application/json'}),
      body: JSON.stringify({...body, stream: true}),
      signal,
      cache: 'no-store',
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, null, `The service could not be reached (${error.message})`);
  }
  if (!response.ok) throw await failure(response);
  await readEvents(response, onEvent);
}

/** Feeds a text/event-stream response to onEvent({id, name, data}), data parsed from JSON where it is JSON. */
async function readEvents(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new EventStreamParser((event) => {
    let data = event.data;
    try {
      data = JSON.parse(event.data);
    } catch {
      // keep the text
    }
    onEvent({id: event.id, name: event.name, data});
  });
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    parser.push(value);
  }
}

/** The text/event-stream format (WHATWG HTML, "Parsing an event stream"), fed chunk by chunk. */
export class EventStreamParser {
  constructor(dispatch) {
    this.dispatch = dispatch;
    this.buffer = '';
    this.id = null; // the last event id: it carries over to later events that name none
    this.reset();
  }

  reset() {
    this.data = [];
    this.name = '';
  }

  push(chunk) {
    this.buffer += chunk;
    for (;;) {
      const match = /\r\n|\n|\r/.exec(this.buffer);
      // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
      if (!match || (match[0] === '\r' && match.index === this.buffer.length - 1)) return;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      this.line(line);
    }
  }

  line(line) {
    if (line === '') {
      if (this.data.length > 0) {
        this.dispatch({id: this.id, name: this.name || 'message', data: this.data.join('\n')});
      }
      this.reset();
      return;
    }
    if (line.startsWith(':')) return; // a comment: the service's heartbeat
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.name = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
  }
}
