-- Contacts are found by phone number however it was written (voicemail intake): `phone_key` is
-- the number's last ten digits, written by the store with every contact. Existing contacts get
-- theirs here.
ALTER TABLE contacts ADD COLUMN phone_key TEXT;
UPDATE contacts SET phone_key = right(regexp_replace(phone, '\D', '', 'g'), 10)
WHERE phone IS NOT NULL AND length(regexp_replace(phone, '\D', '', 'g')) >= 4;
CREATE INDEX contacts_phone_key ON contacts(org_id, phone_key) WHERE phone_key IS NOT NULL;
