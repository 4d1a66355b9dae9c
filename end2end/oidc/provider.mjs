// A real, certified OpenID Provider (panva's oidc-provider) for the tests: it listens on
// a free port of the loopback interface and prints one JSON line, {"issuer": "…"}, once
// it is ready.
//
//   node end2end/oidc/provider.mjs --redirect http://127.0.0.1:$APP_PORT/auth/corp/callback …
//       [--port N] [--code-ttl SECONDS]
//
// One confidential client, `avatar-studio` with the secret `avatar-studio-test-secret`,
// may use the given redirect URIs. Anyone may sign in by name at its login page (a form a
// person or a test fills in); a few names have fixed claims (see ACCOUNTS), any other
// name `x` is `x@example.com`, verified.
//
// For the tests of a provider that misbehaves, `POST /__test/tamper` with
// {"aud": "…"} or {"expired": true} makes the next token response carry an ID token with
// that audience or an expiry in the past, signed with the provider's own key;
// {"delay_ms": N} makes it answer N ms late.

import http from "node:http";
import { randomBytes } from "node:crypto";
import Provider from "oidc-provider";
import { exportJWK, generateKeyPair, SignJWT, decodeJwt, decodeProtectedHeader } from "jose";

export const CLIENT_ID = "avatar-studio";
export const CLIENT_SECRET = "avatar-studio-test-secret";

const ACCOUNTS = {
  alice: { email: "alice@example.com", email_verified: true, name: "Alice Example" },
  bob: { email: "bob@example.com", email_verified: false, name: "Bob Unverified" },
  noemail: { name: "Nobody Mailable" },
};

function claimsOf(id) {
  const known = ACCOUNTS[id];
  if (known) return { sub: id, ...known };
  return { sub: id, email: `${id}@example.com`, email_verified: true, name: id };
}

const redirects = [];
let port = 0;
// How long an authorization code may be exchanged (oidc-provider's default: 60 s).
let codeTtl = 60;
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === "--redirect") redirects.push(process.argv[++i]);
  else if (process.argv[i] === "--port") port = Number(process.argv[++i]);
  else if (process.argv[i] === "--code-ttl") codeTtl = Number(process.argv[++i]);
}
if (redirects.length === 0) {
  console.error("usage: provider.mjs --redirect URI [--redirect URI …]");
  process.exit(2);
}

const { privateKey } = await generateKeyPair("RS256", { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: "test-key", alg: "RS256", use: "sig" };

let tamper = null;
let provider;

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

async function interaction(req, res, path) {
  const [, , uid, action] = path.split("/");
  if (req.method === "GET" && !action) {
    const details = await provider.interactionDetails(req, res);
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.end(`<!doctype html><html lang="en"><head><title>Test identity provider</title></head><body>
<h1>Test identity provider</h1><p>Signing in to ${escape(details.params.client_id)}</p>
<form method="post" action="/interaction/${escape(uid)}/login">
<label>User name <input name="login" autocomplete="username" required></label>
<button type="submit">Continue</button></form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button type="submit">Cancel</button></form>
</body></html>`);
    return;
  }
  if (req.method === "POST" && action === "login") {
    const form = await readForm(req);
    const accountId = (form.get("login") || "").trim();
    if (!accountId) {
      res.statusCode = 400;
      res.end("a user name is needed");
      return;
    }
    const details = await provider.interactionDetails(req, res);
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  if (req.method === "POST" && action === "abort") {
    await provider.interactionFinished(
      req,
      res,
      { error: "access_denied", error_description: "The person cancelled." },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  res.statusCode = 404;
  res.end("not found");
}

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, "http://x").pathname;
  try {
    if (path.startsWith("/interaction/")) return await interaction(req, res, path);
    if (path === "/__test/tamper" && req.method === "POST") {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      tamper = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      res.statusCode = 204;
      return res.end();
    }
    return provider.callback()(req, res);
  } catch (e) {
    console.error(e);
    res.statusCode = 500;
    res.end(String(e));
  }
});

await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

provider = new Provider(issuer, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: redirects,
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  jwks: { keys: [signingJwk] },
  cookies: { keys: [randomBytes(32).toString("hex")] },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name"],
  },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  ttl: { AuthorizationCode: codeTtl },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => claimsOf(id),
  }),
});

// The misbehaving provider: the next ID token is re-signed with another audience, or
// already expired.
provider.use(async (ctx, next) => {
  if (ctx.path === "/token" && tamper && tamper.delay_ms) {
    const delay = tamper.delay_ms;
    tamper = null;
    await new Promise((done) => setTimeout(done, delay));
  }
  await next();
  if (ctx.path !== "/token" || !tamper || !ctx.body || !ctx.body.id_token) return;
  const claims = decodeJwt(ctx.body.id_token);
  const header = decodeProtectedHeader(ctx.body.id_token);
  if (tamper.aud) claims.aud = tamper.aud;
  if (tamper.expired) {
    const now = Math.floor(Date.now() / 1000);
    claims.iat = now - 7200;
    claims.exp = now - 3600;
  }
  tamper = null;
  ctx.body = {
    ...ctx.body,
    id_token: await new SignJWT(claims).setProtectedHeader(header).sign(privateKey),
  };
});

process.on("SIGTERM", () => server.close(() => process.exit(0)));
console.log(JSON.stringify({ issuer }));
