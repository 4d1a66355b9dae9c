-- API.md: every job carries its estimated cost (JSON `model::Cost`), set when it finishes
-- with the same figure its image's provenance and the spend ledger keep; NULL before.
ALTER TABLE jobs ADD COLUMN cost TEXT;
