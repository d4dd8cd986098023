//! The organization's choice of provider (admins): read and replaced whole. A given API key is
//! sealed under the server's key (`--signing-key-secret`, as HS256 signing secrets are) before
//! it is stored, and never read back out but to send it to the provider.

use casedesk_domain::ai::settings::{AiSettings, AiSettingsInput, NewKey, key_binding};
use casedesk_domain::policy::Action;

use crate::{Actor, App, AppError, Result};

impl App {
    /// The organization's provider settings (the built-in provider until an admin saves some).
    pub async fn ai_settings(&self, actor: &Actor) -> Result<AiSettings> {
        actor.require(Action::ManageAiSettings, "manage the assistant's settings")?;
        Ok(self
            .store
            .get_ai_settings(&actor.org_id)
            .await?
            .unwrap_or_else(|| AiSettings::builtin(&actor.org_id, self.clock.now())))
    }

    /// Replaces the provider settings. A new key needs the server's sealing key: without one it
    /// is refused (422 on `api_key`) rather than stored in clear.
    pub async fn update_ai_settings(&self, actor: &Actor, input: AiSettingsInput) -> Result<AiSettings> {
        let current = self.ai_settings(actor).await?;
        let (mut next, key) = input.apply(&current, self.clock.now())?;
        if let Some(NewKey(key)) = key {
            let sealing = self.sealing.as_ref().ok_or_else(|| {
                AppError::field(
                    "api_key",
                    "this server has no signing-key secret configured (--signing-key-secret or \
                     CASEDESK_SIGNING_KEY_SECRET), so it cannot keep an API key; start it with one, or choose a \
                     provider that needs no key",
                )
            })?;
            let sealed = sealing
                .seal(rand::random(), &key_binding(&actor.org_id), &key)
                .map_err(|e| AppError::Internal(format!("sealing an API key: {e}")))?;
            next.api_key_sealed = Some(sealed);
        }
        self.store.put_ai_settings(&next).await?;
        tracing::info!(
            org.id = %actor.org_id,
            ai.provider = next.provider.as_str(),
            ai.key_set = next.api_key_sealed.is_some(),
            "assistant provider settings saved"
        );
        Ok(next)
    }
}
