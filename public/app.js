// Dashboard for the WhatsApp Sync service: plain browser JavaScript, no build step.
// Everything user-provided is written with textContent, never innerHTML.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const API = '/whatsapp-web';
  const state = { apiKey: localStorage.getItem('apiKey') || '', sessionId: null, socket: null, chatId: null, cursor: null, run: null, runLoading: null, ended: {} };

  function showError(message) {
    $('error').textContent = message;
    $('error').hidden = !message;
  }

  async function api(method, path, json) {
    const headers = state.apiKey ? { 'x-api-key': state.apiKey } : {};
    if (json !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(API + path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
    const body = await response.json().catch(() => ({}));
    if (response.status === 401) {
      $('key-form').hidden = false;
      throw new Error('This server needs an API key.');
    }
    if (!response.ok) throw Object.assign(new Error(body.message || `HTTP ${response.status}`), { status: response.status });
    return body;
  }

  function connectSocket() {
    if (state.socket) state.socket.close();
    const socket = io({ auth: state.apiKey ? { apiKey: state.apiKey } : {}, transports: ['websocket'] });
    socket.on('connect_error', (error) => {
      if (error.message === 'unauthorized') $('key-form').hidden = false;
      showError(`Live updates unavailable: ${error.message}`);
    });
    socket.on('connect', () => {
      showError('');
      if (state.sessionId) socket.emit('join-session', { sessionId: state.sessionId }, () => undefined);
    });
    socket.on('session_status', (e) => e.sessionId === state.sessionId && renderStatus(e.status, e.error));
    socket.on('qr', (e) => e.sessionId === state.sessionId && renderQr(e.dataUrl));
    socket.on('sync_chats', (e) => e.sessionId === state.sessionId && renderProgress(e));
    socket.on('sync_chats_done', (e) => {
      if (e.sessionId !== state.sessionId) return;
      renderDone(e);
      refreshDeliveriesSoon();
    });
    socket.on('sync_chats_failed', (e) => {
      if (e.sessionId !== state.sessionId) return;
      state.ended[e.syncId] = 'failed';
      if (state.run && state.run.syncId === e.syncId) renderRunKind({ ...state.run, status: 'failed' });
      showError(`Synchronization failed: ${e.error}`);
      $('sync-button').disabled = false;
    });
    socket.on('message', (e) => {
      if (e.sessionId !== state.sessionId) return;
      if (e.message.chatId === state.chatId) prependMessage(e.message);
      refreshDeliveriesSoon();
    });
    socket.on('message_update', (e) => e.sessionId === state.sessionId && e.message.chatId === state.chatId && updateMessage(e.message));
    state.socket = socket;
  }

  async function loadSessions() {
    const sessions = await api('GET', '/sessions');
    const list = $('sessions');
    list.replaceChildren(
      ...sessions.map((s) => {
        const item = document.createElement('li');
        item.dataset.sessionId = s.sessionId;
        item.className = s.sessionId === state.sessionId ? 'selected' : '';
        const name = document.createElement('span');
        name.textContent = s.sessionId;
        const badge = document.createElement('span');
        badge.className = `badge ${s.status}`;
        badge.textContent = s.status;
        item.append(name, badge);
        item.onclick = () => selectSession(s.sessionId).catch((e) => showError(e.message));
        return item;
      }),
    );
  }

  async function selectSession(sessionId) {
    // The same session again (Start on the selected one): stay in its room, or events would be missed meanwhile.
    const joined = state.sessionId === sessionId;
    if (state.sessionId && !joined && state.socket) state.socket.emit('leave-session', { sessionId: state.sessionId }, () => undefined);
    state.sessionId = sessionId;
    state.chatId = null;
    $('session-panel').hidden = false;
    $('session-name').textContent = sessionId;
    state.run = null;
    state.runLoading = null;
    $('summary').hidden = true;
    $('progress-box').hidden = true;
    $('run-kind').hidden = true;
    $('messages').replaceChildren();
    const session = await api('GET', `/session/${encodeURIComponent(sessionId)}`);
    renderStatus(session.status, session.error);
    if (!joined) state.socket.emit('join-session', { sessionId }, (ack) => ack && !ack.ok && showError(ack.error));
    const run = await loadRun();
    if (run && run.status === 'done') renderSummary(run);
    // The webhook panel must not keep the chats from loading.
    await Promise.all([loadWebhook(), loadDeliveries()]).catch((e) => showError(`Webhook: ${e.message}`));
    await loadChats();
    await loadSessions();
  }

  function renderStatus(status, error) {
    $('status').textContent = status;
    $('status').className = `badge ${status}`;
    $('sync-button').disabled = status !== 'ready';
    if (status !== 'qr') $('qr-box').hidden = true;
    if (status === 'qr') api('GET', `/session/${encodeURIComponent(state.sessionId)}/qr`).then((q) => renderQr(q.dataUrl), () => undefined);
    if (error) {
      showError(`Session ${state.sessionId}: ${error}`);
      state.sessionError = true;
    } else if (status === 'ready' && state.sessionError) {
      showError(''); // the session's last error (a disconnect, say) is over
      state.sessionError = false;
    }
    loadSessions().catch(() => undefined);
  }

  function renderQr(dataUrl) {
    // A QR fetched while the status was `qr` may arrive after the scan: a session past it shows none.
    if ($('status').textContent !== 'qr') return;
    $('qr').src = dataUrl;
    $('qr-box').hidden = false;
  }

  /**
   * The latest run of the session (`GET sync-chats/latest`): its mode and what started it. Loaded when
   * a session is selected and when a run starts (`sync_chats` events do not say who started it).
   */
  function loadRun(fresh = false) {
    if (state.runLoading && !fresh) return state.runLoading;
    const sessionId = state.sessionId;
    const seq = (state.runSeq = (state.runSeq || 0) + 1);
    const loading = api('GET', `/session/${encodeURIComponent(sessionId)}/sync-chats/latest`)
      .then((run) => {
        if (sessionId !== state.sessionId || seq !== state.runSeq) return state.run; // a newer question was asked
        // Its sync_chats_done (or _failed) may have arrived meanwhile.
        const ended = state.ended[run.syncId];
        renderRunKind(ended ? { ...run, status: ended } : run);
        return state.run;
      }, () => null) // 404: no run yet
      .finally(() => { if (state.runLoading === loading) state.runLoading = null; });
    state.runLoading = loading;
    return loading;
  }

  /** "Catch-up (ready) · incremental · running": a run started by the session becoming ready, or "Manual sync (api) · full · done". */
  function runLabel(run) {
    return `${run.trigger === 'ready' ? 'Catch-up' : 'Manual sync'} (${run.trigger}) · ${run.mode} · ${run.status}`;
  }

  function renderRunKind(run) {
    state.run = run;
    $('run-kind').textContent = runLabel(run);
    $('run-kind').dataset.trigger = run.trigger;
    $('run-kind').dataset.mode = run.mode;
    $('run-kind').hidden = false;
  }

  function renderProgress(e) {
    $('progress-box').hidden = false;
    $('summary').hidden = true;
    $('sync-button').disabled = true;
    if (e.currentChat === 0) {
      // A run starts: manual, or the automatic catch-up of a session that became ready.
      $('failures').replaceChildren();
      state.run = null;
      $('run-kind').hidden = true;
      loadRun(true);
    } else if (!state.run || state.run.status !== 'running') {
      loadRun(); // joined mid-run
    }
    const fraction = e.nChats === 0 ? 1 : e.currentChat / e.nChats;
    $('progress').value = fraction;
    $('progress-percent').textContent = `${Math.round(fraction * 100)}%`;
    $('progress-text').textContent =
      e.currentChat === 0 ? `${e.nChats} chats to synchronize` : `Chat ${e.currentChat} of ${e.nChats} · ${e.chatId} · ${e.messagesSynced} messages`;
    if (e.error) {
      const item = document.createElement('li');
      item.textContent = `${e.chatId}: ${e.error}`;
      $('failures').append(item);
    }
  }

  function renderDone(e) {
    $('progress').value = 1;
    $('progress-percent').textContent = '100%';
    renderSummary(e);
    state.ended[e.syncId] = 'done';
    if (state.run && state.run.syncId === e.syncId) renderRunKind({ ...state.run, status: 'done' });
    else loadRun(); // the run's start was missed: ask who started it
    $('sync-button').disabled = $('status').textContent !== 'ready';
    loadChats().catch((error) => showError(error.message));
  }

  /** From `sync_chats_done`, or from a finished run of `GET sync-chats/latest`. */
  function renderSummary(r) {
    const chats = r.chatsProcessed ?? r.nChats;
    const durationMs = r.durationMs ?? (r.finishedAt ? Date.parse(r.finishedAt) - Date.parse(r.startedAt) : 0);
    $('summary').hidden = false;
    $('summary').textContent = `Synchronized ${chats} chats and ${r.messagesSynced} messages (${r.messagesInserted} new) in ${(durationMs / 1000).toFixed(1)} s` +
      (r.chatsSkipped ? ` — ${r.chatsSkipped} unchanged chat(s) skipped` : '') +
      (r.chatsWithGap ? ` — ${r.chatsWithGap} chat(s) with a gap (more new messages than the catch-up bound)` : '') +
      (r.chatsFailed ? ` — ${r.chatsFailed} chat(s) failed` : '');
  }

  async function loadChats() {
    const chats = await api('GET', `/session/${encodeURIComponent(state.sessionId)}/chats?sync=false`);
    $('chats').replaceChildren(
      ...chats.map((chat) => {
        const item = document.createElement('li');
        item.dataset.chatId = chat.id;
        const name = document.createElement('span');
        name.textContent = `${chat.isGroup ? '👥 ' : ''}${chat.pinned ? '📌 ' : ''}${chat.name}`;
        item.append(name);
        if (chat.unreadCount > 0) {
          const unread = document.createElement('span');
          unread.className = 'unread';
          unread.textContent = String(chat.unreadCount);
          item.append(unread);
        }
        item.onclick = () => openChat(chat).catch((error) => showError(error.message));
        return item;
      }),
    );
  }

  async function openChat(chat) {
    state.chatId = chat.id;
    state.cursor = null;
    document.querySelectorAll('#chats li').forEach((li) => li.classList.toggle('selected', li.dataset.chatId === chat.id));
    $('messages-title').textContent = chat.name;
    $('messages').replaceChildren();
    await loadMessages();
  }

  async function loadMessages() {
    const query = new URLSearchParams({ limit: '30' });
    if (state.cursor) query.set('before', state.cursor);
    const page = await api('GET', `/session/${encodeURIComponent(state.sessionId)}/chats/${encodeURIComponent(state.chatId)}/messages?${query}`);
    for (const message of page.messages) $('messages').append(messageItem(message));
    state.cursor = page.nextCursor;
    $('more-button').hidden = !page.nextCursor;
  }

  function messageItem(message) {
    const item = document.createElement('li');
    item.className = message.fromMe ? 'me' : '';
    item.dataset.id = message.id;
    if (message.revoked) {
      const deleted = document.createElement('em');
      deleted.className = 'deleted';
      // The text is there only with KEEP_REVOKED_BODY=true.
      deleted.textContent = message.body ? `🚫 Deleted: ${message.body}` : '🚫 This message was deleted';
      item.append(deleted);
    } else {
      const text = message.type === 'chat' ? message.body : `[${message.type}] ${message.body}`;
      item.append(document.createTextNode(text));
    }
    const meta = document.createElement('small');
    meta.textContent = `${message.author ? `${message.author} · ` : ''}${new Date(message.timestamp * 1000).toLocaleString()}`;
    if (message.editedAt && !message.revoked) {
      const edited = document.createElement('span');
      edited.className = 'edited';
      edited.textContent = ' · edited';
      edited.title = `Edited ${new Date(message.editedAt * 1000).toLocaleString()}`;
      meta.append(edited);
    }
    if (message.hasMedia && !message.revoked) item.append(mediaBlock(message));
    item.append(meta);
    if (message.reactions && message.reactions.length) item.append(reactionsLine(message.reactions));
    return item;
  }

  function mediaPath(message) {
    return `/session/${encodeURIComponent(state.sessionId)}/chats/${encodeURIComponent(message.chatId)}/messages/${encodeURIComponent(message.id)}/media`;
  }

  /**
   * A stored file's URL for <img>, <audio>, <video> and links: the route itself (ranges, caching), or,
   * with an API key (which an element cannot send), a blob: URL of the bytes fetched with it.
   */
  async function mediaUrl(message) {
    if (!state.apiKey) return API + mediaPath(message);
    const response = await fetch(API + mediaPath(message), { headers: { 'x-api-key': state.apiKey } });
    if (!response.ok) throw new Error(`Media: HTTP ${response.status}`);
    return URL.createObjectURL(await response.blob());
  }

  /** Images inline, audio and video players, a download link for the rest; else the status and a retry. */
  function mediaBlock(message) {
    const box = document.createElement('div');
    box.className = 'media';
    const media = message.media;
    if (media && media.status === 'stored') {
      const kind = (media.mimetype || '').split('/')[0];
      const element = document.createElement(kind === 'image' ? 'img' : kind === 'audio' ? 'audio' : kind === 'video' ? 'video' : 'a');
      if (element.tagName === 'A') {
        element.textContent = `⬇ ${media.filename || media.mimetype || 'file'} (${Math.ceil(media.size / 1024)} KB)`;
        element.download = media.filename || '';
      } else {
        element.controls = true;
        element.alt = media.filename || media.mimetype;
      }
      mediaUrl(message).then((url) => (element[element.tagName === 'A' ? 'href' : 'src'] = url)).catch((error) => showError(error.message));
      box.append(element);
      return box;
    }
    const status = document.createElement('span');
    status.className = `media-status ${media ? media.status : 'none'}`;
    status.textContent = `📎 ${(media && media.mimetype) || 'media'} · ${media ? media.status.replace('_', ' ') : 'not downloaded'}`;
    if (media && media.error) status.title = media.error;
    box.append(status);
    if (!media || media.status !== 'too_large') {
      const retry = document.createElement('button');
      retry.className = 'secondary media-retry';
      retry.textContent = media ? 'Retry' : 'Download';
      retry.onclick = () => {
        retry.disabled = true;
        api('POST', mediaPath(message))
          .then((answer) => updateMessage({ ...message, media: answer }))
          .catch((error) => showError(error.message))
          .finally(() => (retry.disabled = false));
      };
      box.append(retry);
    }
    return box;
  }

  /** One chip per emoji, with its count, and who reacted in its tooltip. */
  function reactionsLine(reactions) {
    const line = document.createElement('div');
    line.className = 'reactions';
    const byEmoji = new Map();
    for (const r of reactions) byEmoji.set(r.emoji, [...(byEmoji.get(r.emoji) || []), r.senderId]);
    for (const [emoji, senders] of byEmoji) {
      const chip = document.createElement('span');
      chip.textContent = senders.length > 1 ? `${emoji} ${senders.length}` : emoji;
      chip.title = senders.join(', ');
      line.append(chip);
    }
    return line;
  }

  function shownMessage(id) {
    return [...$('messages').children].find((item) => item.dataset.id === id);
  }

  function prependMessage(message) {
    const shown = shownMessage(message.id);
    if (shown) shown.replaceWith(messageItem(message));
    else $('messages').prepend(messageItem(message));
  }

  /** message_update: the whole view of a changed message; replaces it where it is shown. */
  function updateMessage(message) {
    const shown = shownMessage(message.id);
    if (shown) shown.replaceWith(messageItem(message));
  }

  $('start-form').onsubmit = async (event) => {
    event.preventDefault();
    try {
      const sessionId = $('new-session').value.trim();
      await api('POST', `/session/${encodeURIComponent(sessionId)}/start`);
      await selectSession(sessionId);
    } catch (error) {
      showError(error.message);
    }
  };

  $('sync-button').onclick = async () => {
    $('sync-button').disabled = true;
    showError('');
    try {
      await api('POST', `/session/${encodeURIComponent(state.sessionId)}/sync-chats?limitPerChat=${encodeURIComponent($('limit').value)}`);
    } catch (error) {
      showError(error.message);
      $('sync-button').disabled = false;
    }
  };

  // The session's own webhook (README, "Webhooks"): none means WEBHOOK_URL, if the server has one.
  async function loadWebhook() {
    const sessionId = state.sessionId;
    let setting = null;
    try {
      setting = await api('GET', `/session/${encodeURIComponent(sessionId)}/webhook`);
    } catch (e) {
      // Only "none of its own" (404) means the global one; anything else is an error to show.
      if (e.status !== 404) throw e;
    }
    if (sessionId !== state.sessionId) return;
    state.webhookEvents = setting ? setting.events : null;
    $('webhook-target').textContent = setting ? `→ ${setting.url} (${setting.events.join(', ')}${setting.hasSecret ? ', signed' : ''})` : '→ the global one (WEBHOOK_URL), if set';
    $('webhook-url').value = setting ? setting.url : '';
    $('webhook-secret').value = '';
    $('webhook-secret').placeholder = setting && setting.hasSecret ? 'secret (Save without one removes it)' : 'secret (optional)';
    $('webhook-remove').hidden = !setting;
  }

  async function loadDeliveries() {
    const sessionId = state.sessionId;
    const page = await api('GET', `/webhooks/deliveries?sessionId=${encodeURIComponent(sessionId)}&limit=10`);
    if (sessionId !== state.sessionId) return;
    $('deliveries').tBodies[0].replaceChildren(...page.deliveries.map(deliveryRow));
  }

  function deliveryRow(d) {
    const row = document.createElement('tr');
    row.dataset.deliveryId = d.id;
    const cells = [d.event, d.status, String(d.attempts), d.lastError || (d.lastStatusCode === null ? '' : String(d.lastStatusCode)), new Date(d.createdAt).toLocaleTimeString()];
    for (const [index, text] of cells.entries()) {
      const cell = document.createElement('td');
      cell.textContent = text;
      if (index === 1) cell.className = d.status;
      row.append(cell);
    }
    const action = document.createElement('td');
    if (d.status === 'failed') {
      const retry = document.createElement('button');
      retry.className = 'secondary';
      retry.textContent = 'Retry';
      retry.onclick = () => api('POST', `/webhooks/deliveries/${encodeURIComponent(d.id)}/retry`).then(loadDeliveries).catch((e) => showError(e.message));
      action.append(retry);
    }
    row.append(action);
    return row;
  }

  // Deliveries follow events by a moment: one listing a second at most, however busy the session.
  let deliveriesTimer = null;
  function refreshDeliveriesSoon() {
    if (deliveriesTimer || !$('webhook-box').open) return;
    deliveriesTimer = setTimeout(() => {
      deliveriesTimer = null;
      loadDeliveries().catch(() => undefined);
    }, 1000);
  }

  $('webhook-form').onsubmit = (event) => {
    event.preventDefault();
    const body = { url: $('webhook-url').value.trim() };
    if ($('webhook-secret').value) body.secret = $('webhook-secret').value;
    // The events it carries stay as they were (the page does not edit them).
    if (state.webhookEvents) body.events = state.webhookEvents;
    api('PUT', `/session/${encodeURIComponent(state.sessionId)}/webhook`, body)
      .then(() => {
        showError('');
        return loadWebhook();
      })
      .catch((e) => showError(`Webhook not saved: ${e.message}`));
  };
  $('webhook-remove').onclick = () =>
    api('DELETE', `/session/${encodeURIComponent(state.sessionId)}/webhook`).then(loadWebhook).catch((e) => showError(e.message));
  $('deliveries-refresh').onclick = () => loadDeliveries().catch((e) => showError(e.message));
  $('webhook-box').ontoggle = () => $('webhook-box').open && loadDeliveries().catch((e) => showError(e.message));

  $('stop-button').onclick = () => api('POST', `/session/${encodeURIComponent(state.sessionId)}/stop`).catch((e) => showError(e.message));
  $('more-button').onclick = () => loadMessages().catch((e) => showError(e.message));

  $('key-form').onsubmit = (event) => {
    event.preventDefault();
    state.apiKey = $('api-key').value;
    localStorage.setItem('apiKey', state.apiKey);
    $('key-form').hidden = true;
    connectSocket();
    loadSessions().catch((e) => showError(e.message));
  };

  connectSocket();
  loadSessions().catch((error) => showError(error.message));
})();
