-- The channel an agent chose to send a reply by (email, chat, sms, whatsapp, webchat); NULL: the
-- case's own channel decides.
ALTER TABLE comments ADD COLUMN reply_channel TEXT;
