// An OpenID provider for the tests: the certified `oidc-provider` package (installed
// into .tools/ by `scripts/setup --test`), with its development sign-in pages (any
// known login; the password is not checked), one confidential client, and accounts
// from the environment. Listens on a free loopback port and prints `listening PORT`.
//
//   OIDC_MODULE         path of oidc-provider's lib/index.js
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI
//   OIDC_ACCOUNTS       JSON: { "login": { "sub": "…", "preferred_username": "…",
//                       "name": "…", "email": "…", "groups": ["…"] } }
//   OIDC_HOST           the issuer's host name (default localhost)
import http from 'node:http';
import { pathToFileURL } from 'node:url';

const { default: Provider } = await import(pathToFileURL(process.env.OIDC_MODULE).href);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');
const host = process.env.OIDC_HOST || 'localhost';

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();

const provider = new Provider(`http://${host}:${port}`, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: [process.env.OIDC_REDIRECT_URI],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  // Every client must use PKCE.
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
    groups: ['groups'],
  },
  scopes: ['openid', 'profile', 'email', 'groups'],
  async findAccount(_ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: account.sub ?? id, ...account };
      },
    };
  },
  cookies: { keys: ['connectit-test-provider'] },
  features: { devInteractions: { enabled: true } },
});
provider.on('server_error', (_ctx, err) => console.error('server_error', err));
server.on('request', provider.callback());
console.log(`listening ${port}`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
