// Shared by the tests: the stack's coordinates (written by run.sh), a scripted "browser" (fetch + cookie jar) that
// walks the authorization redirect chain non-interactively, and an OAuthClientProvider for the official MCP SDK.
import fs from 'node:fs';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

/** { issuer, brokerUrl, bankUrl, prmUrl, tenant, agentId, agentJwk, tlsKey, tlsCert, conformanceClientId, ... } */
export const env = JSON.parse(fs.readFileSync(process.env.E2E_ENV ?? new URL('../.run/env.json', import.meta.url), 'utf8'));

/** A user agent without a UI: follows redirects by hand, keeps cookies per host, answers Deputy's consent page. */
export class Browser {
  constructor() {
    this.jar = new Map(); // host -> Map(name -> value)
    this.visited = [];
  }

  cookieHeader(url) {
    const c = this.jar.get(url.hostname);
    return c && c.size ? [...c].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }

  remember(url, res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const c = this.jar.get(url.hostname) ?? new Map();
      const expired = attrs.some(a => /^\s*max-age\s*=\s*(0|-)/i.test(a));
      if (expired || value === '') c.delete(name); else c.set(name, value);
      this.jar.set(url.hostname, c);
    }
  }

  async request(url, init = {}) {
    url = new URL(url);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(url);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.remember(url, res);
    this.visited.push(`${init.method ?? 'GET'} ${url.origin}${url.pathname} -> ${res.status}`);
    return res;
  }

  /**
   * Starts at an authorization URL and follows the chain (Deputy /authorize -> upstream IdP -> Deputy /callback ->
   * [consent] -> redirect_uri) until a redirect to `redirectPrefix`; returns that URL (with code and state).
   */
  async authorize(authorizationUrl, redirectPrefix, { consent = 'allow' } = {}) {
    let url = new URL(authorizationUrl);
    let res = await this.request(url);
    for (let hops = 0; hops < 20; hops++) {
      if (res.status >= 300 && res.status < 400) {
        const next = new URL(res.headers.get('location'), url);
        await res.body?.cancel();
        if (next.href.startsWith(redirectPrefix)) return next;
        url = next;
        res = await this.request(url);
        continue;
      }
      const html = await res.text();
      const form = html.match(/<form[^>]*action="([^"]*\/consent)"/);
      const csrf = html.match(/name="csrf" value="([^"]*)"/);
      if (res.status === 200 && form && csrf) {
        url = new URL(form[1].replace(/&amp;/g, '&'), url);
        res = await this.request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ csrf: csrf[1].replace(/&amp;/g, '&'), decision: consent }).toString(),
        });
        this.consented = true;
        continue;
      }
      throw new Error(`authorization stopped at ${url} with HTTP ${res.status}: ${html.slice(0, 500)}\n${this.visited.join('\n')}`);
    }
    throw new Error(`too many redirects:\n${this.visited.join('\n')}`);
  }
}

/** Every HTTP exchange the SDK makes (MCP and OAuth), for assertions on the discovery sequence. */
export function recordingFetch(log) {
  return async (input, init) => {
    const req = new Request(input, init);
    const res = await fetch(input, init);
    log.push({ method: req.method, url: req.url, status: res.status, www: res.headers.get('www-authenticate') });
    return res;
  };
}

/**
 * OAuthClientProvider for an interactive MCP client (DCR or CIMD), with the "browser" step scripted:
 * redirectToAuthorization walks the redirect chain and keeps the code for transport.finishAuth(code).
 * `rewriteScope(url, round)` may adjust the authorization request (the step-up test narrows the first one).
 */
export class ScriptedLoginProvider {
  constructor({ redirectUrl, clientName = 'deputy-e2e-sdk', clientMetadataUrl, browser = new Browser(), rewriteScope } = {}) {
    this._redirectUrl = redirectUrl ?? 'http://127.0.0.1:33418/callback';
    this.clientMetadataUrl = clientMetadataUrl;
    this.clientName = clientName;
    this.browser = browser;
    this.rewriteScope = rewriteScope;
    this.authorizationUrls = [];
    this.codes = [];
  }

  get redirectUrl() { return this._redirectUrl; }

  get clientMetadata() {
    return {
      client_name: this.clientName,
      redirect_uris: [this._redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state() { return (this._state = crypto.randomUUID()); }
  clientInformation() { return this._client; }
  saveClientInformation(info) { this._client = info; }
  tokens() { return this._tokens; }
  saveTokens(tokens) { this._tokens = tokens; }
  saveCodeVerifier(v) { this._verifier = v; }
  codeVerifier() { return this._verifier; }
  invalidateCredentials(scope) {
    if (scope === 'all' || scope === 'tokens') this._tokens = undefined;
    if (scope === 'all' || scope === 'client') this._client = undefined;
  }

  async redirectToAuthorization(url) {
    url = new URL(url);
    if (this.rewriteScope) this.rewriteScope(url, this.authorizationUrls.length);
    this.authorizationUrls.push(url);
    const back = await this.browser.authorize(url, this._redirectUrl);
    assert.equal(back.searchParams.get('state'), this._state, 'state comes back unchanged');
    const error = back.searchParams.get('error');
    if (error) throw new Error(`authorization failed: ${error} ${back.searchParams.get('error_description') ?? ''}`);
    this.codes.push(back.searchParams.get('code'));
    this.callback = back;
  }

  takeCode() {
    const code = this.codes.shift();
    assert.ok(code, 'the authorization redirect carried a code');
    return code;
  }
}

/** Connects an SDK Client, running the login when the server answers 401 (the SDK's documented pattern). */
export async function connectWithLogin(serverUrl, provider, { fetchLog, name = 'deputy-e2e' } = {}) {
  const opts = { authProvider: provider, ...(fetchLog ? { fetch: recordingFetch(fetchLog) } : {}) };
  const client = new Client({ name, version: '1.0.0' });
  let transport = new StreamableHTTPClientTransport(new URL(serverUrl), opts);
  try {
    await client.connect(transport);
    return { client, transport, loggedIn: false };
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
  }
  await transport.finishAuth(provider.takeCode());
  await transport.close().catch(() => {});
  transport = new StreamableHTTPClientTransport(new URL(serverUrl), opts);
  const client2 = new Client({ name, version: '1.0.0' });
  await client2.connect(transport);
  return { client: client2, transport, loggedIn: true };
}

/** Decodes a JWT payload (no verification: the MCP server does that). */
export function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

/** The structured result of a tool call, failing the test on a tool error. */
export function structured(result) {
  assert.ok(!result.isError, `tool error: ${JSON.stringify(result.content)}`);
  return result.structuredContent;
}
