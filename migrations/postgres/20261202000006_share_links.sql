-- Share links (issue 16 §4): each signed link an owner hands out is a row, so that it can
-- be listed and revoked. A link opens the image only while its row says it is neither
-- revoked nor expired; revocation is kept when the image goes to the trash and back.
CREATE TABLE share_links (
    id          TEXT PRIMARY KEY NOT NULL,
    image_id    TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX share_links_image ON share_links (image_id, id);
CREATE INDEX share_links_expires ON share_links (expires_at);
