-- The image library: characters, collections, images and their cached variants.
-- Ids are TEXT (UUIDv7), times INTEGER milliseconds, JSON as TEXT.

-- The avatar subjects.
CREATE TABLE characters (
    id                       TEXT PRIMARY KEY NOT NULL,
    user_id                  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                     TEXT NOT NULL,
    description              TEXT,
    -- the current avatar: one of the user's images (cleared when that image is deleted)
    avatar_image_id          TEXT,
    -- an avatar that still points outside our storage (migrated by `import-urls`)
    avatar_external_url      TEXT,
    avatar_prompt            TEXT,
    -- JSON: provider, model, size, quality, seed
    avatar_generation_config TEXT,
    created_at               BIGINT NOT NULL,
    updated_at               BIGINT NOT NULL
);
CREATE INDEX characters_user ON characters (user_id, id);

-- Named groups of images. Deleting one keeps its images.
CREATE TABLE collections (
    id             TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    description    TEXT,
    cover_image_id TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX collections_user ON collections (user_id, id);

-- Every image: uploaded, imported or generated (pending until its job finishes).
CREATE TABLE images (
    id             TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- 'generated', 'uploaded' or 'imported'
    kind           TEXT NOT NULL,
    -- 'pending', 'generating', 'downloading', 'uploading', 'completed', 'error', 'canceled'
    status         TEXT NOT NULL,
    collection_id  TEXT REFERENCES collections (id) ON DELETE SET NULL,
    character_id   TEXT REFERENCES characters (id) ON DELETE SET NULL,
    parent_id      TEXT REFERENCES images (id) ON DELETE SET NULL,
    title          TEXT,
    prompt         TEXT,
    revised_prompt TEXT,
    provider       TEXT,
    model          TEXT,
    -- JSON: the generation parameters
    params         TEXT,
    seed           BIGINT,
    width          BIGINT,
    height         BIGINT,
    mime_type      TEXT,
    bytes          BIGINT,
    sha256         TEXT,
    source_url     TEXT,
    -- where the bytes are in object storage (built by storage::key)
    storage_key    TEXT,
    error_code     TEXT,
    error_message  TEXT,
    favorite       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    -- set while the image is in the trash
    deleted_at     BIGINT,
    -- set when the object was found missing from storage
    missing_at     BIGINT
);
CREATE INDEX images_user ON images (user_id, id);
CREATE INDEX images_user_collection ON images (user_id, collection_id, id);
CREATE INDEX images_user_character ON images (user_id, character_id, id);
CREATE INDEX images_deleted ON images (deleted_at);

-- Resized copies of an image, cached in object storage under variants/{image_id}/.
CREATE TABLE image_variants (
    image_id       TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    spec           TEXT NOT NULL,
    storage_key    TEXT NOT NULL,
    mime_type      TEXT NOT NULL,
    width          BIGINT NOT NULL,
    height         BIGINT NOT NULL,
    bytes          BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT NOT NULL,
    PRIMARY KEY (image_id, spec)
);
CREATE INDEX image_variants_used ON image_variants (last_used_at);
