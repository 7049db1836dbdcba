-- 006: the recipient's language on links and the tenant's branding (issue 16 §3–4).
-- `locale`: the link's language tag (`en`, `es`), NULL when the creator named none.
-- `accent`: `#RRGGBB`; `logo`: the PNG (at most 256 KiB, checked by the application).
ALTER TABLE links ADD COLUMN locale text CHECK (locale IN ('en', 'es'));
ALTER TABLE tenants ADD COLUMN accent text CHECK (accent ~ '^#[0-9a-f]{6}$');
ALTER TABLE tenants ADD COLUMN logo bytea CHECK (octet_length(logo) <= 262144);
