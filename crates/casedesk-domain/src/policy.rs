//! Who may do what: one pure function, [`can`], called by every use case.

/// A user's role in their organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Manages the organization: users, tokens of others, configuration; and works cases.
    Admin,
    /// Works cases, contacts and accounts.
    Agent,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "agent" => Ok(Role::Agent),
            _ => Err(format!("unknown role {s:?}; expected admin or agent")),
        }
    }
}

/// Something a caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ReadCases,
    WriteCases,
    DeleteCase,
    ImportCases,
    ReadDirectory,
    WriteDirectory,
    DeleteDirectoryEntry,
    ManageUsers,
    ManageOwnTokens,
    ManageAllTokens,
    ManageQueues,
    /// Log time on cases: timers and one's own entries.
    LogTime,
    /// Define the organization's time types; change anyone's time entries.
    ManageTime,
    /// Create, change and delete webhooks; read their deliveries.
    ManageWebhooks,
    /// Add, list and revoke the signing keys of visitor tokens.
    ManageSigningKeys,
    /// Create, change and delete automation rules and shared macros.
    ManageAutomation,
    /// Choose the assistant's provider and give its API key.
    ManageAiSettings,
}

/// Whether a user with `role` may perform `action`.
pub fn can(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => true,
        Role::Agent => match action {
            ReadCases | WriteCases | ReadDirectory | WriteDirectory | ManageOwnTokens | LogTime => true,
            DeleteCase | ImportCases | DeleteDirectoryEntry | ManageUsers | ManageAllTokens | ManageQueues
            | ManageTime | ManageWebhooks | ManageSigningKeys | ManageAutomation | ManageAiSettings => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    #[test]
    fn permission_table() {
        let table = [
            (ReadCases, true, true),
            (WriteCases, true, true),
            (DeleteCase, true, false),
            (ImportCases, true, false),
            (ReadDirectory, true, true),
            (WriteDirectory, true, true),
            (DeleteDirectoryEntry, true, false),
            (ManageUsers, true, false),
            (ManageOwnTokens, true, true),
            (ManageAllTokens, true, false),
            (ManageQueues, true, false),
            (LogTime, true, true),
            (ManageTime, true, false),
            (ManageWebhooks, true, false),
            (ManageSigningKeys, true, false),
            (ManageAutomation, true, false),
            (ManageAiSettings, true, false),
        ];
        for (action, admin, agent) in table {
            assert_eq!(can(Role::Admin, action), admin, "admin {action:?}");
            assert_eq!(can(Role::Agent, action), agent, "agent {action:?}");
        }
    }
}
