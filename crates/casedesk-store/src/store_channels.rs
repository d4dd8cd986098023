//! [`Store`] methods for messaging channels: conversations linked to cases, the connectors
//! agents' replies leave through, and their outbox of deliveries.

use casedesk_domain::case::Channel;
use casedesk_domain::messaging::{ChannelConnector, ChannelDelivery, ChannelReply};
use casedesk_domain::timeline::NewEvent;
use jiff::Timestamp;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Page, PageRequest, Result, Store};

/// Chooses the deliveries of an agent's public reply that goes to a messaging channel, given the
/// organization's active connectors.
pub type MakeChannelDeliveries<'a> =
    dyn Fn(&[ChannelConnector], &ChannelReply<'_>) -> Vec<ChannelDelivery> + Send + Sync + 'a;

impl Store {
    /// The case an external conversation feeds, if any.
    pub async fn get_conversation_case(
        &self,
        org_id: &str,
        channel: Channel,
        external_id: &str,
    ) -> Result<Option<String>> {
        dispatch!(self, read, get_conversation_case(org_id, channel, external_id))
    }

    /// Links a conversation to a case (moving it there if it fed another one).
    pub async fn link_conversation(
        &self,
        org_id: &str,
        channel: Channel,
        external_id: &str,
        case_id: &str,
        now: Timestamp,
    ) -> Result<()> {
        dispatch!(self, write, link_conversation(org_id, channel, external_id, case_id, now))
    }

    /// Stores a connector; a second one for the same channel is a duplicate.
    pub async fn insert_channel_connector(&self, c: &ChannelConnector) -> Result<()> {
        dispatch!(self, write, insert_channel_connector(c))
    }

    pub async fn get_channel_connector(&self, org_id: &str, id: &str) -> Result<ChannelConnector> {
        dispatch!(self, read, get_channel_connector(org_id, id))
    }

    pub async fn list_channel_connectors(&self, org_id: &str) -> Result<Vec<ChannelConnector>> {
        dispatch!(self, read, list_channel_connectors(org_id))
    }

    pub async fn update_channel_connector(&self, c: &ChannelConnector) -> Result<()> {
        dispatch!(self, write, update_channel_connector(c))
    }

    /// Deletes a connector and its deliveries.
    pub async fn delete_channel_connector(&self, org_id: &str, id: &str) -> Result<()> {
        dispatch!(self, write, delete_channel_connector(org_id, id))
    }

    /// Turns agents' new public comments into deliveries to connectors, moving each
    /// organization's cursor in the same transaction; returns how many were made.
    pub async fn dispatch_channel_events(&self, limit: u32, make: &MakeChannelDeliveries<'_>) -> Result<usize> {
        dispatch!(self, write, dispatch_channel_events(limit, make))
    }

    /// Claims up to `limit` due deliveries for `claim` until `lease_until`.
    pub async fn claim_channel_deliveries(
        &self,
        claim: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ChannelDelivery>> {
        dispatch!(self, write, claim_channel_deliveries(claim, now, lease_until, limit))
    }

    /// Saves an attempt's outcome while `claim` holds the delivery, with its timeline event and
    /// the connector's failure state; returns the connector when this attempt switched it off.
    pub async fn finish_channel_attempt(
        &self,
        d: &ChannelDelivery,
        claim: &str,
        event: Option<&NewEvent>,
        now: Timestamp,
    ) -> Result<Option<ChannelConnector>> {
        dispatch!(self, write, finish_channel_attempt(d, claim, event, now))
    }

    /// Stores one delivery on its own (an admin's redelivery).
    pub async fn add_channel_delivery(&self, d: &ChannelDelivery) -> Result<()> {
        dispatch!(self, write, add_channel_delivery(d))
    }

    pub async fn get_channel_delivery(&self, org_id: &str, connector_id: &str, id: &str) -> Result<ChannelDelivery> {
        dispatch!(self, read, get_channel_delivery(org_id, connector_id, id))
    }

    /// The channels of the conversations feeding a case.
    pub async fn conversation_channels(&self, org_id: &str, case_id: &str) -> Result<Vec<Channel>> {
        dispatch!(self, read, conversation_channels(org_id, case_id))
    }

    /// A connector's deliveries, newest first.
    pub async fn list_connector_deliveries(
        &self,
        org_id: &str,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ChannelDelivery>> {
        dispatch!(self, read, list_connector_deliveries(org_id, connector_id, page))
    }

    /// A case's replies to connectors, oldest first.
    pub async fn list_channel_deliveries(&self, org_id: &str, case_id: &str) -> Result<Vec<ChannelDelivery>> {
        dispatch!(self, read, list_channel_deliveries(org_id, case_id))
    }
}
