/** Browser entry: read /config.json, connect to the API's live stream, render the shell. */
// Must stay the first import: it configures zod before any schema module is evaluated.
import './lib/zod-setup.js';
import { render } from 'preact';
import { App } from './app.js';
import { createApiClient } from './lib/api-client.js';
import { fetchClientConfig } from './lib/client-config.js';
import { ServicesContext } from './lib/hooks.js';
import { createLiveHub } from './lib/live-hub.js';
import './styles.css';

async function start(root: HTMLElement): Promise<void> {
  try {
    const config = await fetchClientConfig();
    const api = createApiClient(config.apiBaseUrl);
    const live = createLiveHub(api.streamUrl);
    window.addEventListener('pagehide', () => live.close());
    render(
      <ServicesContext.Provider value={{ api, live, config }}>
        <App version={config.version} />
      </ServicesContext.Provider>,
      root,
    );
  } catch (err) {
    root.innerHTML = '';
    const box = document.createElement('div');
    box.className = 'boot-error';
    box.setAttribute('role', 'alert');
    box.textContent = `The dashboard could not start: ${(err as Error).message}`;
    root.append(box);
  }
}

const root = document.getElementById('app');
if (root) void start(root);
