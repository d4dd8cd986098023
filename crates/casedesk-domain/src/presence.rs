//! Who else is on a case: the viewers of its page and those typing a reply, as open pages report
//! them. Presence is kept alive by the page (a heartbeat while it is open, a mark while the agent
//! types) and simply runs out, so a closed laptop never leaves anyone "viewing" for long.

use jiff::{SignedDuration, Timestamp};

/// How long one heartbeat of an open page keeps its viewer on the case.
pub const VIEWING_FOR: SignedDuration = SignedDuration::from_secs(30);
/// How often an open page renews its viewer (well within [`VIEWING_FOR`]).
pub const HEARTBEAT: SignedDuration = SignedDuration::from_secs(10);
/// How long one keystroke in the composer counts as typing.
pub const TYPING_FOR: SignedDuration = SignedDuration::from_secs(6);

/// A user's presence on a case: viewing until, and typing a reply until (the epoch when never).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    pub user_id: String,
    pub viewing_until: Timestamp,
    pub typing_until: Timestamp,
}

/// Someone else on the case, and whether they are typing a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Other {
    pub user_id: String,
    pub typing: bool,
}

/// The others on a case at `now` (not `me`): those typing first, each once, in user order.
pub fn others(rows: &[Presence], me: &str, now: Timestamp) -> Vec<Other> {
    let mut out: Vec<Other> = rows
        .iter()
        .filter(|p| p.user_id != me && (p.viewing_until >= now || p.typing_until >= now))
        .map(|p| Other { user_id: p.user_id.clone(), typing: p.typing_until >= now })
        .collect();
    out.sort_by(|a, b| b.typing.cmp(&a.typing).then_with(|| a.user_id.cmp(&b.user_id)));
    out.dedup_by(|a, b| a.user_id == b.user_id);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).expect("timestamp")
    }

    fn p(user: &str, viewing: i64, typing: i64) -> Presence {
        Presence { user_id: user.into(), viewing_until: t(viewing), typing_until: t(typing) }
    }

    #[test]
    fn others_are_who_is_still_there_typing_first_and_never_me() {
        let rows = [p("usr_c", 40, 0), p("usr_a", 40, 0), p("usr_me", 40, 40), p("usr_b", 5, 12), p("usr_gone", 9, 9)];
        let got = others(&rows, "usr_me", t(10));
        let want = [("usr_b", true), ("usr_a", false), ("usr_c", false)]
            .map(|(u, typing)| Other { user_id: u.into(), typing });
        assert_eq!(got, want);
        assert!(others(&rows, "usr_me", t(41)).is_empty(), "everyone ran out");
    }
}
