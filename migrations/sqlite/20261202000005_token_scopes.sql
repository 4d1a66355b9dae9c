-- What each personal access token may do: space-separated scopes (read, generate, write,
-- admin). Tokens made before scopes existed keep what they could do, short of admin.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read generate write';
