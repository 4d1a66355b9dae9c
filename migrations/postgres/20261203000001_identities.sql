-- Sign-in through identity providers (issue 18). An identity (provider, subject) belongs
-- to one account; an account may have several, and no password.
CREATE TABLE identities (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- the provider's configured name (OIDC_PROVIDERS, or 'github')
    provider      TEXT NOT NULL,
    -- the provider's stable id of the person: the ID token's sub, GitHub's numeric id
    subject       TEXT NOT NULL,
    -- the address the provider gave at the last sign-in, to tell identities apart
    email         TEXT,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT NOT NULL,
    UNIQUE (provider, subject)
);
CREATE INDEX identities_user ON identities (user_id, created_at);

-- A sign-in on its way through a provider, from /auth/{provider}/start to its callback:
-- found by the hash of the state sent to the provider, bound to the browser that started
-- it (the hash of a cookie), used once. The PKCE verifier and the nonce stay here, never
-- in the browser.
CREATE TABLE identity_flows (
    state_hash    TEXT PRIMARY KEY NOT NULL,
    browser_hash  TEXT NOT NULL,
    provider      TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next          TEXT,
    -- set when a signed-in person links another identity
    link_user_id  TEXT REFERENCES users (id) ON DELETE CASCADE,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX identity_flows_expires ON identity_flows (expires_at);

-- An identity whose verified address belongs to an account: linked only once the browser
-- that brought it signs in to that account with its password.
CREATE TABLE identity_offers (
    browser_hash  TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider      TEXT NOT NULL,
    subject       TEXT NOT NULL,
    email         TEXT,
    next          TEXT,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX identity_offers_expires ON identity_offers (expires_at);
