-- Issue 19 §5. A character's avatar can be public: a random token, unique, that opens the
-- character's current avatar at /avatars/{token} until the owner revokes it (NULL).
-- An image that goes to the trash remembers the character it was the avatar of, so that
-- restoring it can offer to make it the avatar again.
ALTER TABLE characters ADD COLUMN public_avatar_token TEXT;
CREATE UNIQUE INDEX characters_public_avatar_token ON characters (public_avatar_token);
ALTER TABLE images ADD COLUMN was_avatar_of TEXT;
