-- The character sheet (issue 19 §1): the canonical physical description that every
-- generation naming the character threads into its prompt, and the images sent with it as
-- identity references (a JSON array of image ids; NULL means "the current avatar"). The
-- version grows whenever either changes, so an image's provenance names the sheet it used.
ALTER TABLE characters ADD COLUMN appearance TEXT;
ALTER TABLE characters ADD COLUMN identity_reference_ids TEXT;
ALTER TABLE characters ADD COLUMN sheet_version INTEGER NOT NULL DEFAULT 1;
