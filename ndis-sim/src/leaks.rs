//! The leak listing: what a session allocated and did not free, by pool
//! and tag.

use crate::model::{Body, MdlInfo, NbInfo, tag_text, with_state};

/// One object allocated and not freed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// `nbl#3`, `pool#1`, …
    pub object: String,
    /// The pool it came from, if any (`pool#1`).
    pub pool: Option<String>,
    /// The pool tag, as four characters.
    pub tag: String,
}

/// What a session allocated and did not free, by pool and tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeakReport {
    /// The leaked objects, oldest first.
    pub leaks: Vec<Leak>,
}

impl LeakReport {
    /// Whether nothing leaked.
    pub fn is_empty(&self) -> bool {
        self.leaks.is_empty()
    }

    /// How many objects leaked.
    pub fn len(&self) -> usize {
        self.leaks.len()
    }
}

impl std::fmt::Display for LeakReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.leaks.is_empty() {
            return f.write_str("no leaks");
        }
        let mut by: std::collections::BTreeMap<(String, String), Vec<&str>> = Default::default();
        for l in &self.leaks {
            by.entry((l.pool.clone().unwrap_or_else(|| "(no pool)".into()), l.tag.clone()))
                .or_default()
                .push(&l.object);
        }
        writeln!(f, "{} objects leaked:", self.leaks.len())?;
        for ((pool, tag), objs) in by {
            writeln!(f, "  {pool} tag '{tag}': {}", objs.join(", "))?;
        }
        Ok(())
    }
}

pub(crate) fn leaks(session: u64) -> LeakReport {
    with_state(|st| {
        let mut items: Vec<(&u64, Leak)> = st
            .objs
            .values()
            .filter(|o| o.freed_by.is_none() && o.session == session)
            // Parts of another object (a preallocated NB, MDLs NDIS made for
            // data, clones or retreats) go with it: the owner is the leak.
            .filter(|o| !matches!(o.body, Body::Nb(NbInfo { owner: Some(_), .. })))
            .filter(|o| !matches!(o.body, Body::Mdl(MdlInfo { by_caller: false, .. })))
            .map(|o| {
                // A lent NBL outlives its loan only through references the
                // driver never released: the stack never regains it.
                if let Body::Nbl(n) = &o.body
                    && n.lent.is_some()
                {
                    let pool = format!("(lent by the stack; {} references never released)", n.references);
                    return (&o.id, Leak { object: o.name().to_string(), pool: Some(pool), tag: tag_text(o.tag) });
                }
                let pool = match &o.body {
                    Body::Nbl(n) => Some(n.pool),
                    Body::Nb(n) => Some(n.pool),
                    _ => None,
                }
                .filter(|p| *p != 0);
                (
                    &o.id,
                    Leak {
                        object: o.name().to_string(),
                        pool: pool.map(|p| st.name(p).to_string()),
                        tag: tag_text(o.tag),
                    },
                )
            })
            .collect();
        items.sort_by_key(|(id, _)| **id);
        LeakReport { leaks: items.into_iter().map(|(_, l)| l).collect() }
    })
}
