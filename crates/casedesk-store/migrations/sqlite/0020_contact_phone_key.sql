-- Contacts are found by phone number however it was written (voicemail intake): `phone_key` is
-- the number's last ten digits, written by the store with every contact. Existing contacts get
-- theirs here, from the usual separators stripped.
ALTER TABLE contacts ADD COLUMN phone_key TEXT;
UPDATE contacts SET phone_key = substr(
    replace(replace(replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '(', ''), ')', ''), '.', ''), '+', ''), '/', ''),
    -10)
WHERE phone IS NOT NULL
  AND length(replace(replace(replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '(', ''), ')', ''), '.', ''), '+', ''), '/', '')) >= 4;
CREATE INDEX contacts_phone_key ON contacts(org_id, phone_key) WHERE phone_key IS NOT NULL;
